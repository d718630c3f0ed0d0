import { describe, expect, it } from 'vitest'
import { DURATION_BUCKETS } from '../../../src/observability/duration-buckets.js'
import { addLatencyReadings, LATENCY_SLOTS, LATENCY_WINDOW_SECONDS, LatencyWindow, latencyReading, type IntervalClock } from '../../../src/observability/endpoint-latency.js'

/** A clock the test moves by hand (the process clock ticks with a timer). */
class ManualClock implements IntervalClock {
  interval = 1000
}

function windowWith(clock = new ManualClock()): { clock: ManualClock; window: LatencyWindow } {
  return { clock, window: new LatencyWindow(clock) }
}

describe('LatencyWindow', () => {
  it('counts each duration in the bucket whose upper bound (le, in ms) it does not exceed', () => {
    const { window } = windowWith()
    // 1 ms is ≤ 0.001 s (first bucket), 1.001 ms the second; 60 s the last finite one; 61 s is +Inf.
    for (const ms of [0, 1, 1.001, 2.5, 60_000, 61_000]) window.record(ms)
    const buckets = window.buckets()
    expect(buckets).toHaveLength(DURATION_BUCKETS.length + 1)
    expect(buckets[0]).toBe(2)
    expect(buckets[1]).toBe(2)
    expect(buckets[DURATION_BUCKETS.length - 1]).toBe(1)
    expect(buckets[DURATION_BUCKETS.length]).toBe(1)
    expect(buckets.reduce((sum, count) => sum + count, 0)).toBe(6)
  })

  it('gives p50 and p99 interpolated inside buckets, as histogram_quantile does', () => {
    const { window } = windowWith()
    // 90 requests of 3 ms (bucket 2.5–5 ms), 10 of 200 ms (bucket 100–250 ms).
    for (let i = 0; i < 90; i++) window.record(3)
    for (let i = 0; i < 10; i++) window.record(200)
    const reading = window.reading()
    expect(reading.requests).toBe(100)
    expect(reading.windowSeconds).toBe(LATENCY_WINDOW_SECONDS)
    // Rank 50 of the 90 in (2.5, 5]: 2.5 + 2.5 × 50/90.
    expect(reading.p50Ms).toBeCloseTo(2.5 + 2.5 * (50 / 90), 3)
    // Rank 99 is the 9th of the 10 in (100, 250]: 100 + 150 × 9/10.
    expect(reading.p99Ms).toBeCloseTo(100 + 150 * (9 / 10), 3)
  })

  it('has no quantile (null) before any request, and the highest finite bound for requests beyond it', () => {
    const { window } = windowWith()
    expect(window.reading()).toMatchObject({ requests: 0, p50Ms: null, p99Ms: null })
    window.record(120_000)
    expect(window.reading()).toMatchObject({ requests: 1, p50Ms: 60_000, p99Ms: 60_000 })
  })

  it('sums the current interval and the ones before it within the window, and forgets older ones', () => {
    const { clock, window } = windowWith()
    window.record(3) // interval 1000
    clock.interval += 1
    window.record(3)
    window.record(3)
    expect(window.reading().requests).toBe(3)
    // The first interval leaves the window once LATENCY_SLOTS newer ones began, even with no request since.
    clock.interval = 1000 + LATENCY_SLOTS - 1
    expect(window.reading().requests).toBe(3)
    clock.interval = 1000 + LATENCY_SLOTS
    expect(window.reading().requests).toBe(2)
    clock.interval = 1001 + LATENCY_SLOTS
    expect(window.reading()).toMatchObject({ requests: 0, p99Ms: null })
  })

  it('clears a reused slot before counting into it: memory stays LATENCY_SLOTS histograms', () => {
    const { clock, window } = windowWith()
    for (let i = 0; i < 50; i++) window.record(200)
    // Exactly one ring later the same slot is written again: the old 50 must not come back.
    clock.interval += LATENCY_SLOTS
    window.record(3)
    expect(window.reading()).toMatchObject({ requests: 1 })
    expect(window.reading().p99Ms).toBeLessThan(5)
  })

  it('tells a slow endpoint from a fast one by p99 when their medians are in the same bucket', () => {
    const fast = windowWith().window
    const slow = windowWith().window
    for (let i = 0; i < 98; i++) {
      fast.record(4)
      slow.record(4)
    }
    for (let i = 0; i < 2; i++) {
      fast.record(4)
      slow.record(800)
    }
    // Both medians in the (2.5, 5] ms bucket (interpolated over 98 or 100 requests there).
    for (const median of [slow.reading().p50Ms as number, fast.reading().p50Ms as number]) {
      expect(median).toBeGreaterThan(2.5)
      expect(median).toBeLessThanOrEqual(5)
    }
    expect(slow.reading().p99Ms as number).toBeGreaterThan(500)
    expect(fast.reading().p99Ms as number).toBeLessThan(5)
  })
})

describe('latencyReading and addLatencyReadings', () => {
  it('read missing buckets as 0 and add up per bucket', () => {
    const a = latencyReading([1, 2])
    const b = latencyReading([0, 0, 3])
    expect(a.buckets).toHaveLength(DURATION_BUCKETS.length + 1)
    const sum = addLatencyReadings([a, b])
    expect(sum.buckets.slice(0, 3)).toEqual([1, 2, 3])
    expect(sum.requests).toBe(6)
    expect(addLatencyReadings([])).toMatchObject({ requests: 0, p50Ms: null, p99Ms: null })
  })
})
