import { afterEach, describe, expect, it } from 'vitest'
import { LeastRequest } from '../../../src/balancing/least-request.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import { closeEndpoints, endpoints, tally } from './balancing-fixtures.js'

afterEach(closeEndpoints)

describe('LeastRequest (power of two choices)', () => {
  it('of two candidates always takes the less loaded (in-flight per weight)', () => {
    const [a, b] = endpoints(1, 3) as [Endpoint, Endpoint]
    const policy = new LeastRequest()
    a.inflight = 2
    b.inflight = 3
    for (let i = 0; i < 50; i++) expect(policy.pick([a, b])).toBe(b)
    a.inflight = 0
    b.inflight = 0
  })

  it('never picks the most loaded of several (it loses every comparison)', () => {
    const all = endpoints(1, 1, 1, 1)
    const busiest = all[3] as Endpoint
    busiest.inflight = 50
    const policy = new LeastRequest()
    const picks = Array.from({ length: 2000 }, () => policy.pick(all))
    expect(tally(all, picks)[3]).toBe(0)
    // The others share the picks (each far from 0: about a third each).
    for (const count of tally(all, picks).slice(0, 3)) expect(count).toBeGreaterThan(400)
    busiest.inflight = 0
  })

  it('returns the only candidate', () => {
    const [only] = endpoints(1) as [Endpoint]
    expect(new LeastRequest().pick([only])).toBe(only)
  })
})
