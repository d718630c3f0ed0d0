import { describe, expect, it } from 'vitest'
import type { EndpointSnapshot, PoolSnapshot } from '../../../src/admin/pool-snapshot.js'
import { parseCliArgs, UsageError } from '../../../src/cli/args.js'
import { mergePools } from '../../../src/cluster/merge-pools.js'
import { latencyReading } from '../../../src/observability/endpoint-latency.js'

function endpoint(id: string, overrides: Partial<EndpointSnapshot> = {}): EndpointSnapshot {
  return {
    id, url: `http://${id}`, source: 'static', state: 'healthy', adminState: 'active', checkState: 'unknown', available: true, weight: 1,
    inflight: 0, total: 0, failures: 0, errors: {}, ejections: 0, ejectedUntil: null, stalls: 0, removalDeadline: null, lastCheck: null, upgraded: 0, sessions: 0, latency: latencyReading([]), ...overrides,
  }
}

function pool(endpoints: EndpointSnapshot[], overrides: Partial<PoolSnapshot> = {}): PoolSnapshot {
  return { name: 'web', panic: false, retries: 0, queue: { length: 0, rejectedFull: 0, timedOut: 0 }, endpoints, ...overrides }
}

describe('mergePools', () => {
  it('sums counters per endpoint and pool, and lists per-worker states only when they differ', () => {
    const merged = mergePools(
      [
        [pool([endpoint('a:1', { inflight: 2, total: 10, errors: { ERR_UPSTREAM_CONNECT: 1 } }), endpoint('b:1', { total: 3 })], { retries: 1, queue: { length: 1, rejectedFull: 2, timedOut: 0 } })],
        [pool([endpoint('a:1', { inflight: 1, total: 5, errors: { ERR_UPSTREAM_CONNECT: 2, ERR_UPSTREAM_RESET: 1 } }), endpoint('b:1', { total: 4, state: 'unhealthy', available: false, ejections: 1 })], { retries: 2, panic: true })],
      ],
      [1, 2],
    )
    expect(merged).toHaveLength(1)
    const [web] = merged as [PoolSnapshot]
    expect(web).toMatchObject({ name: 'web', panic: true, retries: 3, queue: { length: 1, rejectedFull: 2, timedOut: 0 } })
    expect(web.endpoints[0]).toMatchObject({ id: 'a:1', state: 'healthy', inflight: 3, total: 15, errors: { ERR_UPSTREAM_CONNECT: 3, ERR_UPSTREAM_RESET: 1 } })
    expect(web.endpoints[0]).not.toHaveProperty('states')
    expect(web.endpoints[1]).toMatchObject({ id: 'b:1', state: 'unhealthy', available: false, total: 7, ejections: 1, states: { 1: 'healthy', 2: 'unhealthy' } })
  })

  it('does not add up live-session counts: every worker reads the same cluster-wide counts', () => {
    const merged = mergePools([[pool([endpoint('a:1', { sessions: 40 })])], [pool([endpoint('a:1', { sessions: 42 })])]], [1, 2])
    expect(merged[0]?.endpoints[0]?.sessions).toBe(42)
  })

  it('adds up the workers\' latency buckets and computes p50/p99 again from the sums', () => {
    // Worker 1: 60 requests ≤ 1 ms; worker 2: 40 requests in (250 ms, 500 ms]. Neither worker's own p99 is the cluster's.
    const fast = latencyReading([60])
    const slow = latencyReading([0, 0, 0, 0, 0, 0, 0, 0, 40])
    const merged = mergePools([[pool([endpoint('a:1', { latency: fast })])], [pool([endpoint('a:1', { latency: slow })])]], [1, 2])
    const latency = merged[0]?.endpoints[0]?.latency
    expect(latency?.requests).toBe(100)
    expect(latency?.buckets.slice(0, 9)).toEqual([60, 0, 0, 0, 0, 0, 0, 0, 40])
    // Rank 50 of 100 is in the first bucket: 50/60 of the way to 1 ms.
    expect(latency?.p50Ms).toBeCloseTo((50 / 60) * 1, 3)
    // Rank 99 is the 39th of the 40 in (250, 500]: 250 + 250 × 39/40.
    expect(latency?.p99Ms).toBeCloseTo(250 + 250 * (39 / 40), 3)
    expect(fast.p99Ms).toBeLessThan(1)
  })
})

describe('--workers', () => {
  it('takes a count or auto, and refuses anything else', () => {
    expect(parseCliArgs(['--upstream', 'http://127.0.0.1:1', '--workers', '4'], {}).workers).toBe(4)
    expect(parseCliArgs(['--upstream', 'http://127.0.0.1:1', '-w', 'auto'], {}).workers).toBe('auto')
    expect(parseCliArgs(['--upstream', 'http://127.0.0.1:1'], {}).workers).toBeUndefined()
    for (const bad of ['0', '-1', '1.5', 'many', '257']) expect(() => parseCliArgs(['--workers', bad], {})).toThrow(UsageError)
  })
})
