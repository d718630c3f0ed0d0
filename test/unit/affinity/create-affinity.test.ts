import { afterEach, describe, expect, it } from 'vitest'
import { ClientIpAffinity } from '../../../src/affinity/client-ip-affinity.js'
import { HashAffinity } from '../../../src/affinity/hash-affinity.js'
import { LearnAffinity } from '../../../src/affinity/learn-affinity.js'
import { TokenAffinity } from '../../../src/affinity/token-affinity.js'
import { LeastSessions } from '../../../src/balancing/least-sessions.js'
import { affinityPool, closeAll, endpointUrls, serveNow, affinityOf } from './affinity-fixtures.js'

afterEach(closeAll)

describe('createAffinity (through the pool)', () => {
  it('builds the configured mode, none for mode none', () => {
    const cases = [
      ['cookie', TokenAffinity],
      ['header', TokenAffinity],
      ['client-ip', ClientIpAffinity],
      ['hash', HashAffinity],
      ['learn', LearnAffinity],
    ] as const
    for (const [mode, type] of cases) {
      const { pool } = affinityPool({ endpoints: endpointUrls(2), affinity: { mode } })
      expect(affinityOf(pool), mode).toBeInstanceOf(type)
      expect(affinityOf(pool)?.mode).toBe(mode)
    }
    expect(affinityOf(affinityPool({ endpoints: endpointUrls(2) }).pool)).toBeUndefined()
  })

  it('least-sessions reads the live-session counts of the pool\'s own affinity', () => {
    const { pool, store } = affinityPool({ endpoints: endpointUrls(2), balance: 'least-sessions', affinity: { mode: 'client-ip' } })
    expect(pool.policy).toBeInstanceOf(LeastSessions)
    const [a, b] = pool.endpoints
    for (let i = 0; i < 3; i++) store.touchSession('web:ip', `other-${i}`, a?.id as string, 60_000)
    // a has 3 live sessions, b none: the next three new sessions all go to b.
    for (let i = 0; i < 3; i++) expect(serveNow(pool, { clientIp: `10.0.0.${i}` }).endpoint).toBe(b)
    expect(Object.fromEntries(affinityOf(pool)?.sessionCounts() ?? [])).toEqual({ [a?.id as string]: 3, [b?.id as string]: 3 })
  })
})
