import { describe, expect, it } from 'vitest'
import { mergeRules } from '../../../src/cluster/merge-rules.js'
import type { RuleReport } from '../../../src/proxying/rule-target.js'

const rule = (id: string, backends: [pool: string, requests: number, live: number | undefined][]): RuleReport => ({
  id,
  backends: backends.map(([pool, requests, liveSessions]) => ({ pool, weight: 1, requests, liveSessions, sessions: liveSessions === undefined ? 'none' : 'rule' })),
})

describe('mergeRules', () => {
  it('adds up requests per rule and backend, and takes live sessions once (they are cluster-wide in every worker)', () => {
    const merged = mergeRules([
      [rule('r1', [['main', 90, 40], ['canary', 10, 5]]), rule('plain', [['a', 3, undefined], ['b', 4, undefined]])],
      [rule('r1', [['main', 85, 41], ['canary', 15, 5]]), rule('plain', [['a', 1, undefined], ['b', 0, undefined]])],
    ])
    expect(merged).toEqual([rule('r1', [['main', 175, 41], ['canary', 25, 5]]), rule('plain', [['a', 4, undefined], ['b', 4, undefined]])])
  })

  it('keeps a rule or backend only some workers know (a reload on its way), and no workers is no rules', () => {
    expect(mergeRules([[rule('r1', [['main', 1, 0]])], [rule('r1', [['main', 2, 0], ['new', 3, 1]]), rule('r2', [['x', 5, undefined]])]])).toEqual([
      rule('r1', [['main', 3, 0], ['new', 3, 1]]),
      rule('r2', [['x', 5, undefined]]),
    ])
    expect(mergeRules([])).toEqual([])
  })
})
