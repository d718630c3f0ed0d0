import { afterEach, describe, expect, it } from 'vitest'
import { SmoothWeightedRoundRobin } from '../../../src/balancing/smooth-weighted-round-robin.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import { closeEndpoints, endpoints, tally } from './balancing-fixtures.js'

afterEach(closeEndpoints)

describe('SmoothWeightedRoundRobin', () => {
  it('cycles equal weights in order', () => {
    const all = endpoints(1, 1, 1)
    const policy = new SmoothWeightedRoundRobin()
    expect(Array.from({ length: 6 }, () => policy.pick(all))).toEqual([...all, ...all])
  })

  it('interleaves weights 5,1,1 as a a b a c a a (nginx), never in bursts', () => {
    const [a, b, c] = endpoints(5, 1, 1) as [Endpoint, Endpoint, Endpoint]
    const policy = new SmoothWeightedRoundRobin()
    expect(Array.from({ length: 7 }, () => policy.pick([a, b, c]))).toEqual([a, a, b, a, c, a, a])
  })

  it('gives each endpoint exactly its weight share per cycle, also over a subset (unavailable ones sit out)', () => {
    const all = endpoints(3, 2, 1, 4)
    const policy = new SmoothWeightedRoundRobin()
    expect(tally(all, Array.from({ length: 1000 }, () => policy.pick(all)))).toEqual([300, 200, 100, 400])
    const subset = all.slice(0, 3)
    expect(tally(subset, Array.from({ length: 600 }, () => policy.pick(subset)))).toEqual([300, 200, 100])
  })

  it('returns the only candidate', () => {
    const [only] = endpoints(7) as [Endpoint]
    expect(new SmoothWeightedRoundRobin().pick([only])).toBe(only)
  })
})
