import { describe, expect, it } from 'vitest'
import { bucketQuantile } from '../../../src/observability/bucket-quantile.js'
import { DURATION_BUCKETS } from '../../../src/observability/metrics-requests.js'
import type { PoolCounters } from '../../../src/observability/pool-counters.js'
import { sumCounters } from '../../../src/observability/pool-counters.js'
import { PoolHistory } from '../../../src/observability/pool-history.js'

/** Cumulative bucket counts with `count` observations in the bucket whose upper bound is `bound`. */
function bucketsWith(count: number, bound: number): number[] {
  return [...DURATION_BUCKETS.map((upper) => (upper >= bound ? count : 0)), count]
}

const counters = (requests: number, errors: number, buckets: number[] = bucketsWith(0, 1)): PoolCounters => ({ requests, errors, buckets })

describe('bucketQuantile', () => {
  it('interpolates inside the bucket the rank falls in, as histogram_quantile does', () => {
    // 100 observations: 50 in (0, 0.1], 50 in (0.1, 0.25].
    const bounds = [0.1, 0.25, 1]
    expect(bucketQuantile(0.5, bounds, [50, 100, 100, 100])).toBeCloseTo(0.1)
    expect(bucketQuantile(0.99, bounds, [50, 100, 100, 100])).toBeCloseTo(0.1 + 0.15 * (49 / 50))
    expect(bucketQuantile(0.25, bounds, [50, 100, 100, 100])).toBeCloseTo(0.05)
  })

  it('is NaN with no observation, and the highest finite bound when the rank is in +Inf', () => {
    expect(bucketQuantile(0.99, [0.1, 1], [0, 0, 0])).toBeNaN()
    expect(bucketQuantile(0.99, [0.1, 1], [0, 0, 10])).toBe(1)
  })
})

describe('PoolHistory', () => {
  it('records rates per second from counter increases, unknown (null) before a pool has two samples', () => {
    const history = new PoolHistory(10)
    history.record(1000, { web: counters(0, 0) })
    history.record(3000, { web: counters(100, 10, bucketsWith(100, 0.05)) })
    const view = history.view()
    expect(view.times).toEqual([1000, 3000])
    expect(view.pools.web?.requestsPerSecond).toEqual([null, 50])
    expect(view.pools.web?.errorsPerSecond).toEqual([null, 5])
    const p99 = view.pools.web?.p99Seconds[1] as number
    expect(p99).toBeGreaterThan(0.025)
    expect(p99).toBeLessThanOrEqual(0.05)
  })

  it('keeps only the last `capacity` samples, oldest first', () => {
    const history = new PoolHistory(3)
    for (let i = 0; i <= 5; i++) history.record(1000 * (i + 1), { web: counters(i * 10, 0) })
    const view = history.view()
    expect(view.times).toEqual([4000, 5000, 6000])
    expect(view.pools.web?.requestsPerSecond).toEqual([10, 10, 10])
  })

  it('treats a counter that went down as reset, drops pools that left and starts new ones unknown', () => {
    const history = new PoolHistory(5)
    history.record(1000, { web: counters(500, 0) })
    history.record(2000, { web: counters(20, 0) })
    history.record(3000, { api: counters(7, 0) })
    const view = history.view()
    expect(Object.keys(view.pools)).toEqual(['api'])
    expect(view.pools.api?.requestsPerSecond).toEqual([null, null, null])
    const before = new PoolHistory(5)
    before.record(1000, { web: counters(500, 0) })
    before.record(2000, { web: counters(20, 0) })
    expect(before.view().pools.web?.requestsPerSecond).toEqual([null, 20])
  })

  it('shows no p99 for an interval without requests', () => {
    const history = new PoolHistory(5)
    history.record(1000, { web: counters(10, 0, bucketsWith(10, 0.1)) })
    history.record(3000, { web: counters(10, 0, bucketsWith(10, 0.1)) })
    expect(history.view().pools.web?.p99Seconds).toEqual([null, null])
  })
})

describe('sumCounters', () => {
  it('adds the workers\' counters pool by pool, bucket by bucket', () => {
    const sum = sumCounters([{ web: counters(1, 1, [1, 2, 3]) }, { web: counters(2, 0, [0, 1, 1]), api: counters(5, 0, [5]) }])
    expect(sum).toEqual({ web: { requests: 3, errors: 1, buckets: [1, 3, 4] }, api: { requests: 5, errors: 0, buckets: [5] } })
  })
})
