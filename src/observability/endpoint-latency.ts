/**
 * @module Per-endpoint latency over the last minute: a ring of per-interval histograms.
 *
 * Each endpoint keeps LATENCY_SLOTS histograms of LATENCY_SLOT_MS each, with the buckets of
 * `latch_request_duration_seconds` (DURATION_BUCKETS, then +Inf), in one Uint32Array allocated when
 * the endpoint is built (with the interval each slot holds): memory is fixed per endpoint (about
 * 0.6 KB, measured by bench/history-memory.mjs), whatever the traffic.
 *
 * Recording a finished request reads a shared interval number (advanced by one unref'd timer per
 * process at each interval boundary, so the request path reads no clock), compares a few bucket
 * bounds and increments one count; the slot of a new interval is cleared the first time it is written.
 * Reading sums the slots of the current interval and the LATENCY_SLOTS − 1 before it, and interpolates
 * p50/p99 inside buckets as Prometheus' `histogram_quantile` does (bucket-quantile.ts).
 */
import { bucketQuantile } from './bucket-quantile.js'
import { DURATION_BUCKETS } from './duration-buckets.js'

/** Length of one interval of the ring. */
export const LATENCY_SLOT_MS = 10_000
/** Intervals summed for a reading: the current one and the 5 before it (50–60 s of requests). */
export const LATENCY_SLOTS = 6
/** What a reading covers at most, in seconds. */
export const LATENCY_WINDOW_SECONDS = (LATENCY_SLOT_MS * LATENCY_SLOTS) / 1000

/** Counts per histogram: one per finite bound, then +Inf. */
const BUCKETS = DURATION_BUCKETS.length + 1
/** The finite bounds in milliseconds (requests are timed in ms). */
const BOUNDS_MS = Float64Array.from(DURATION_BUCKETS, (seconds) => seconds * 1000)
const LAST_FINITE = BOUNDS_MS.length
/** Where the slots' interval numbers start in a window's array (after the counts). */
const INTERVALS_AT = LATENCY_SLOTS * BUCKETS

/** The number of the current interval (`floor(now / LATENCY_SLOT_MS)`), kept current without a clock read per request. */
export interface IntervalClock {
  readonly interval: number
}

/** The process's interval clock: started by the first window that uses it, ticking at interval boundaries. */
class TimerIntervalClock implements IntervalClock {
  interval = Math.floor(Date.now() / LATENCY_SLOT_MS)
  #started = false

  start(): this {
    if (this.#started) return this
    this.#started = true
    this.#schedule()
    return this
  }

  #schedule(): void {
    // 1 ms past the boundary, so Date.now() is in the new interval when the timer fires.
    setTimeout(() => {
      this.interval = Math.floor(Date.now() / LATENCY_SLOT_MS)
      this.#schedule()
    }, LATENCY_SLOT_MS - (Date.now() % LATENCY_SLOT_MS) + 1).unref()
  }
}

let sharedClock: TimerIntervalClock | undefined

function processClock(): IntervalClock {
  return (sharedClock ??= new TimerIntervalClock()).start()
}

/** An endpoint's latency reading as the admin API shows it (`GET /pools`, `latency`). */
export interface LatencyReading {
  /** The window the reading covers at most (the current 10 s interval and the 5 before it). */
  readonly windowSeconds: number
  /** Requests finished in the window. */
  readonly requests: number
  /** Median and 99th percentile in milliseconds; null with no request in the window. */
  readonly p50Ms: number | null
  readonly p99Ms: number | null
  /**
   * Requests per duration bucket (the `le` bounds of `latch_request_duration_seconds`, then +Inf),
   * not cumulative, so the counts of several workers add up.
   */
  readonly buckets: readonly number[]
}

/** The last minute of one endpoint's request durations. */
export class LatencyWindow {
  readonly #clock: IntervalClock
  /**
   * LATENCY_SLOTS histograms of BUCKETS counts, one after the other (slot = interval % LATENCY_SLOTS),
   * then the interval each slot holds (a slot never written holds 0 and only zeros). One array, not
   * two: each typed array costs about 200 bytes besides its contents.
   */
  readonly #counts = new Uint32Array(LATENCY_SLOTS * BUCKETS + LATENCY_SLOTS)
  /** The interval being written, and where its slot starts in #counts. */
  #interval = -1
  #base = 0

  constructor(clock: IntervalClock = processClock()) {
    this.#clock = clock
  }

  /** Counts one finished request that took `ms` milliseconds (hot path: no allocation, no clock read). */
  record(ms: number): void {
    if (this.#clock.interval !== this.#interval) this.#turn(this.#clock.interval)
    let bucket = 0
    while (bucket < LAST_FINITE && ms > (BOUNDS_MS[bucket] as number)) bucket++
    ;(this.#counts[this.#base + bucket] as number)++
  }

  /** Requests per bucket over the window (not cumulative; BUCKETS entries). */
  buckets(): number[] {
    const sums = new Array<number>(BUCKETS).fill(0)
    const current = this.#clock.interval
    for (let slot = 0; slot < LATENCY_SLOTS; slot++) {
      const interval = this.#counts[INTERVALS_AT + slot] as number
      if (interval > current || current - interval >= LATENCY_SLOTS) continue
      for (let bucket = 0; bucket < BUCKETS; bucket++) sums[bucket] = (sums[bucket] as number) + (this.#counts[slot * BUCKETS + bucket] as number)
    }
    return sums
  }

  /** The reading of the admin API. */
  reading(): LatencyReading {
    return latencyReading(this.buckets())
  }

  #turn(interval: number): void {
    const slot = interval % LATENCY_SLOTS
    this.#base = slot * BUCKETS
    this.#interval = interval
    if (this.#counts[INTERVALS_AT + slot] === interval) return
    this.#counts.fill(0, this.#base, this.#base + BUCKETS)
    this.#counts[INTERVALS_AT + slot] = interval
  }
}

/** A reading from per-bucket counts (one window's, or several workers' added up). */
export function latencyReading(buckets: readonly number[]): LatencyReading {
  const counts = Array.from({ length: BUCKETS }, (_, bucket) => buckets[bucket] ?? 0)
  const cumulative: number[] = []
  let requests = 0
  for (const count of counts) cumulative.push((requests += count))
  return { windowSeconds: LATENCY_WINDOW_SECONDS, requests, p50Ms: quantileMs(0.5, cumulative), p99Ms: quantileMs(0.99, cumulative), buckets: counts }
}

/** Adds up per-bucket counts (the workers' readings of one endpoint). */
export function addLatencyReadings(readings: readonly LatencyReading[]): LatencyReading {
  const sums = new Array<number>(BUCKETS).fill(0)
  for (const reading of readings) reading.buckets.forEach((count, bucket) => (sums[bucket] = (sums[bucket] ?? 0) + count))
  return latencyReading(sums)
}

function quantileMs(q: number, cumulative: readonly number[]): number | null {
  const seconds = bucketQuantile(q, DURATION_BUCKETS, cumulative)
  // Microsecond precision: finer would only be interpolation noise.
  return Number.isNaN(seconds) ? null : Math.round(seconds * 1e6) / 1000
}
