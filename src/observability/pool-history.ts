/**
 * @module The dashboard's history: requests/s, errors/s and p99 latency per pool over the last 15
 * minutes, sampled every 2 s into fixed-size ring buffers.
 *
 * Memory is bounded by construction: one Float64Array of sample times, and per pool three
 * Float32Arrays of HISTORY_SAMPLES entries plus the previous counters (about 5.6 KB per pool,
 * whatever the number of endpoints or requests). A pool that leaves the config leaves the history.
 * Sampling reads cumulative counters (see pool-counters.ts), so it costs nothing per request.
 */
import { bucketQuantile } from './bucket-quantile.js'
import { DURATION_BUCKETS } from './metrics-requests.js'
import type { CountersByPool, PoolCounters } from './pool-counters.js'

/** Time between two samples. */
export const HISTORY_INTERVAL_MS = 2000
/** Samples kept per series: 15 minutes at one every 2 s. */
export const HISTORY_SAMPLES = 450

/** `GET /history`: oldest sample first; null where a value is unknown (no sample yet, no request). */
export interface HistoryView {
  readonly intervalSeconds: number
  /** Sample times, Unix milliseconds. */
  readonly times: readonly number[]
  readonly pools: Readonly<Record<string, PoolHistoryView>>
}

/** One pool's series, aligned with `times`. */
export interface PoolHistoryView {
  readonly requestsPerSecond: readonly (number | null)[]
  readonly errorsPerSecond: readonly (number | null)[]
  readonly p99Seconds: readonly (number | null)[]
}

interface PoolSeries {
  readonly requests: Float32Array
  readonly errors: Float32Array
  readonly p99: Float32Array
  previous: PoolCounters
  /** Bucket deltas of the last interval, reused from sample to sample. */
  readonly deltas: Float64Array
}

/** Ring buffers of per-pool rates, fed with cumulative counters. */
export class PoolHistory {
  readonly #capacity: number
  readonly #times: Float64Array
  readonly #pools = new Map<string, PoolSeries>()
  /** Index the next sample is written at. */
  #next = 0
  #count = 0
  #lastAt = 0

  constructor(capacity = HISTORY_SAMPLES) {
    this.#capacity = capacity
    this.#times = new Float64Array(capacity)
  }

  /** Records one sample taken at `now` (ms): rates since the previous sample (unknown for a new pool). */
  record(now: number, counters: CountersByPool): void {
    const slot = this.#next
    const seconds = this.#lastAt === 0 ? 0 : (now - this.#lastAt) / 1000
    for (const name of this.#pools.keys()) if (!Object.hasOwn(counters, name)) this.#pools.delete(name)
    for (const [name, current] of Object.entries(counters)) {
      const series = this.#pools.get(name)
      if (series === undefined) {
        this.#pools.set(name, this.#newSeries(current))
        continue
      }
      this.#sample(series, slot, current, seconds)
    }
    this.#times[slot] = now
    this.#lastAt = now
    this.#next = (slot + 1) % this.#capacity
    this.#count = Math.min(this.#count + 1, this.#capacity)
  }

  /** The history, oldest sample first. */
  view(): HistoryView {
    const order = this.#order()
    const pools: Record<string, PoolHistoryView> = {}
    for (const [name, series] of this.#pools) {
      pools[name] = { requestsPerSecond: pick(series.requests, order, 1000), errorsPerSecond: pick(series.errors, order, 1000), p99Seconds: pick(series.p99, order, 1e6) }
    }
    return { intervalSeconds: HISTORY_INTERVAL_MS / 1000, times: order.map((index) => this.#times[index] as number), pools }
  }

  #sample(series: PoolSeries, slot: number, current: PoolCounters, seconds: number): void {
    const { previous, deltas } = series
    if (seconds <= 0) {
      series.requests[slot] = series.errors[slot] = series.p99[slot] = Number.NaN
    } else {
      series.requests[slot] = increase(previous.requests, current.requests) / seconds
      series.errors[slot] = increase(previous.errors, current.errors) / seconds
      for (let i = 0; i < deltas.length; i++) deltas[i] = increase(previous.buckets[i] ?? 0, current.buckets[i] ?? 0)
      series.p99[slot] = bucketQuantile(0.99, DURATION_BUCKETS, deltas)
    }
    series.previous = current
  }

  #newSeries(current: PoolCounters): PoolSeries {
    return {
      requests: new Float32Array(this.#capacity).fill(Number.NaN),
      errors: new Float32Array(this.#capacity).fill(Number.NaN),
      p99: new Float32Array(this.#capacity).fill(Number.NaN),
      previous: current,
      deltas: new Float64Array(DURATION_BUCKETS.length + 1),
    }
  }

  /** Ring indexes from the oldest sample to the newest. */
  #order(): number[] {
    const start = this.#count < this.#capacity ? 0 : this.#next
    return Array.from({ length: this.#count }, (_, i) => (start + i) % this.#capacity)
  }
}

/** A counter's increase; a counter that went down was reset (pool rebuilt, worker restarted). */
function increase(before: number, after: number): number {
  return after >= before ? after - before : after
}

/** The values in `order`, rounded to 1/`scale` (float32 noise would triple the JSON's size). */
function pick(values: Float32Array, order: readonly number[], scale: number): (number | null)[] {
  return order.map((index) => {
    const value = values[index] as number
    return Number.isNaN(value) ? null : Math.round(value * scale) / scale
  })
}

/** Samples a PoolHistory every HISTORY_INTERVAL_MS while started; the timer never keeps the process alive. */
export class HistorySampler {
  readonly history = new PoolHistory()
  readonly #read: () => Promise<CountersByPool>
  #timer: NodeJS.Timeout | undefined
  #busy = false

  constructor(read: () => Promise<CountersByPool>) {
    this.#read = read
  }

  start(): void {
    if (this.#timer !== undefined) return
    void this.sample()
    this.#timer = setInterval(() => void this.sample(), HISTORY_INTERVAL_MS).unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  /** Takes one sample now (a sample still being read is not overlapped; a failed read is skipped). */
  async sample(): Promise<void> {
    if (this.#busy) return
    this.#busy = true
    try {
      this.history.record(Date.now(), await this.#read())
    } catch {
      // A worker restarting: the next sample covers the gap (rates are per elapsed time).
    } finally {
      this.#busy = false
    }
  }
}
