import { afterEach, describe, expect, it } from 'vitest'
import { WeightedRandom } from '../../../src/balancing/weighted-random.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import { closeEndpoints, endpoints, tally } from './balancing-fixtures.js'

afterEach(closeEndpoints)

describe('WeightedRandom', () => {
  it('picks in proportion to weight (20,000 picks; bounds are > 8 standard deviations wide)', () => {
    const all = endpoints(1, 3)
    const policy = new WeightedRandom()
    const [light, heavy] = tally(all, Array.from({ length: 20_000 }, () => policy.pick(all))) as [number, number]
    expect(light / 20_000).toBeGreaterThan(0.225)
    expect(light / 20_000).toBeLessThan(0.275)
    expect(light + heavy).toBe(20_000)
  })

  it('never picks outside the candidates and returns the only one', () => {
    const all = endpoints(1, 1, 1)
    const policy = new WeightedRandom()
    const subset = all.slice(1)
    for (let i = 0; i < 500; i++) expect(subset).toContain(policy.pick(subset))
    expect(policy.pick([all[0] as Endpoint])).toBe(all[0])
  })
})
