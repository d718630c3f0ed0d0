/**
 * @module The cumulative per-pool counters the dashboard history samples: requests, failures and
 * request-duration bucket counts. Read from live counters (no per-request work), summed over workers.
 */
import type { UpstreamPool } from '../upstream/upstream-pool.js'

/** One pool's counters since it was built: plain numbers, so they travel over the workers' IPC. */
export interface PoolCounters {
  /** Requests sent to its endpoints (attempts, as `/pools` counts them). */
  readonly requests: number
  /** Failed attempts (connect errors, timeouts, 5xx counted as failures). */
  readonly errors: number
  /** Cumulative `latch_request_duration_seconds` bucket counts (DURATION_BUCKETS, then +Inf). */
  readonly buckets: readonly number[]
}

/** Counters by pool name. */
export type CountersByPool = Readonly<Record<string, PoolCounters>>

/** The counters of `pools`, with their duration buckets from `durations` (pool → cumulative counts). */
export function poolCounters(pools: Iterable<UpstreamPool>, durations: ReadonlyMap<string, readonly number[]>): CountersByPool {
  const counters: Record<string, PoolCounters> = {}
  for (const pool of pools) {
    let requests = 0
    let errors = 0
    for (const endpoint of pool.endpoints) {
      requests += endpoint.total
      errors += endpoint.failuresTotal
    }
    counters[pool.name] = { requests, errors, buckets: durations.get(pool.name) ?? [] }
  }
  return counters
}

/** Sums the counters of several workers, pool by pool. */
export function sumCounters(parts: readonly CountersByPool[]): CountersByPool {
  const sums: Record<string, { requests: number; errors: number; buckets: number[] }> = {}
  for (const part of parts) {
    for (const [name, counters] of Object.entries(part)) {
      const sum = (sums[name] ??= { requests: 0, errors: 0, buckets: [] })
      sum.requests += counters.requests
      sum.errors += counters.errors
      counters.buckets.forEach((count, index) => (sum.buckets[index] = (sum.buckets[index] ?? 0) + count))
    }
  }
  return sums
}
