import { afterEach, describe, expect, it, vi } from 'vitest'
import { LeastSessions } from '../../../src/balancing/least-sessions.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import { closeEndpoints, endpoints, tally } from './balancing-fixtures.js'

afterEach(async () => {
  vi.useRealTimers()
  await closeEndpoints()
})

describe('LeastSessions', () => {
  it('picks the endpoint with the fewest live sessions plus in-flight requests, per weight', () => {
    const [a, b, c] = endpoints(1, 1, 2) as [Endpoint, Endpoint, Endpoint]
    const policy = new LeastSessions()
    const counts = new Map([[a.id, 10], [b.id, 4], [c.id, 10]])
    policy.counts = () => counts
    expect(policy.pick([a, b, c])).toBe(b)
    b.inflight = 2
    // b: (4 + 2) / 1 = 6 > c: 10 / 2 = 5
    expect(policy.pick([a, b, c])).toBe(c)
    b.inflight = 0
  })

  it('fills a new endpoint after a scale-out instead of the old ones', () => {
    const [a, b, c] = endpoints(1, 1, 1) as [Endpoint, Endpoint, Endpoint]
    const policy = new LeastSessions()
    const counts = new Map([[a.id, 100], [b.id, 100]])
    policy.counts = () => counts
    const picks: Endpoint[] = []
    for (let i = 0; i < 100; i++) {
      const picked = policy.pick([a, b, c]) as Endpoint
      picks.push(picked)
      counts.set(picked.id, (counts.get(picked.id) ?? 0) + 1)
    }
    expect(tally([a, b, c], picks)).toEqual([0, 0, 100])
  })

  it('spreads ties in turn rather than always taking the first (no herd on one endpoint)', () => {
    const all = endpoints(1, 1, 1, 1, 1)
    const policy = new LeastSessions()
    expect(tally(all, Array.from({ length: 500 }, () => policy.pick(all)))).toEqual([100, 100, 100, 100, 100])
  })

  it('with session counts kept up to date, new sessions are spread evenly (1,000 over 5)', () => {
    const all = endpoints(1, 1, 1, 1, 1)
    const policy = new LeastSessions()
    const counts = new Map<string, number>()
    policy.counts = () => counts
    for (let i = 0; i < 1000; i++) {
      const picked = policy.pick(all) as Endpoint
      counts.set(picked.id, (counts.get(picked.id) ?? 0) + 1)
    }
    expect(all.map((endpoint) => counts.get(endpoint.id))).toEqual([200, 200, 200, 200, 200])
  })

  it('with lagging shared counts (countsLagMs), adds its own recent picks so a burst does not herd onto one endpoint', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const all = endpoints(1, 1, 1)
    const [a, b, c] = all as [Endpoint, Endpoint, Endpoint]
    // Counts as a shared store reported them a moment ago; they do not move during the burst.
    const stale = new Map([[a.id, 10], [b.id, 12], [c.id, 14]])
    const herd = new LeastSessions()
    herd.counts = () => stale
    expect(tally(all, Array.from({ length: 300 }, () => herd.pick(all)))).toEqual([300, 0, 0])
    const policy = new LeastSessions()
    policy.counts = () => stale
    policy.countsLagMs = 2000
    // Filled to even totals: counts + own picks = 112 each (within one).
    const picks = tally(all, Array.from({ length: 300 }, () => policy.pick(all)))
    expect(picks.map((count, index) => count + [10, 12, 14][index]!).every((total) => Math.abs(total - 112) <= 1)).toBe(true)
    // Once the window has passed, old picks no longer count (the shared counts include them by then).
    vi.advanceTimersByTime(2001)
    expect(policy.pick(all)).toBe(a)
  })
})
