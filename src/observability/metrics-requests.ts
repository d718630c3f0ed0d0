/**
 * @module Per-request metrics: the only metrics work on the hot path.
 *
 * A finished request costs three Map lookups, one integer increment and one histogram observe (two
 * more lookups and an increment for pools with affinity);
 * label objects are built once per (pool, endpoint, status) and per pool, never per request. The
 * request counts live in plain cells and are handed to prom-client when Prometheus scrapes.
 */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { AffinityMode } from '../config/affinity-schema.js'
import type { FinishedRequest } from '../proxying/runtime.js'
import { DURATION_BUCKETS } from './duration-buckets.js'

/**
 * Outcomes of `latch_affinity_requests_total`: the `X-Latch-Affinity` values, plus `unavailable` for a
 * session refused with 503 because its endpoint is down and the pool is set to `onUnavailable: fail`.
 */
export const AFFINITY_OUTCOMES = ['hit', 'new', 'rebound', 'expired', 'invalid', 'unavailable'] as const
export type AffinityMetricOutcome = (typeof AFFINITY_OUTCOMES)[number]
const OUTCOME_INDEX: Readonly<Record<AffinityMetricOutcome, number>> = { hit: 0, new: 1, rebound: 2, expired: 3, invalid: 4, unavailable: 5 }

/** Request duration buckets in seconds (duration-buckets.ts, a leaf module). */
export { DURATION_BUCKETS }

type RequestLabels = Readonly<Record<'pool' | 'endpoint' | 'class' | 'code', string>>

interface Cell {
  readonly labels: RequestLabels
  value: number
}

/** Counts finished requests by pool, endpoint and status, and times them by pool. */
export class RequestMetrics {
  /** pool name → endpoint id → status → cell; "" stands for "no pool" / "no endpoint". */
  readonly #cells = new Map<string, Map<string, Map<number, Cell>>>()
  readonly #observers = new Map<string, (seconds: number) => void>()
  readonly #durations: Histogram<'pool'>
  /** pool name → affinity mode → one count per AFFINITY_OUTCOMES entry. */
  readonly #affinity = new Map<string, Map<AffinityMode, number[]>>()

  constructor(registry: Registry) {
    const cells = this.#cells
    const affinity = this.#affinity
    new Counter({
      name: 'latch_affinity_requests_total',
      help: 'Requests to pools with affinity by pool, mode and outcome: hit (bound endpoint used), new (new session bound), rebound (moved off an unavailable endpoint), expired, invalid (token tampered, foreign or duplicated: treated as absent), unavailable (503, onUnavailable: fail).',
      labelNames: ['pool', 'mode', 'outcome'],
      registers: [registry],
      collect() {
        this.reset()
        for (const [pool, modes] of affinity) {
          for (const [mode, counts] of modes) AFFINITY_OUTCOMES.forEach((outcome, index) => this.inc({ pool, mode, outcome }, counts[index] as number))
        }
      },
    })
    new Counter({
      name: 'latch_requests_total',
      help: 'Finished client requests by pool, endpoint (host:port of the last attempt), status class and status code; "" when no pool or endpoint was reached.',
      labelNames: ['pool', 'endpoint', 'class', 'code'],
      registers: [registry],
      collect() {
        this.reset()
        for (const endpoints of cells.values()) {
          for (const statuses of endpoints.values()) for (const cell of statuses.values()) this.inc(cell.labels, cell.value)
        }
      },
    })
    this.#durations = new Histogram({
      name: 'latch_request_duration_seconds',
      help: 'Time from receiving a client request until its response ended, by pool.',
      labelNames: ['pool'],
      buckets: [...DURATION_BUCKETS],
      registers: [registry],
    })
  }

  /** Every request counted so far (at scrape time only). */
  total(): number {
    let sum = 0
    for (const endpoints of this.#cells.values()) for (const statuses of endpoints.values()) for (const cell of statuses.values()) sum += cell.value
    return sum
  }

  /** Cumulative duration bucket counts by pool (DURATION_BUCKETS, then +Inf), read from the histogram. */
  async durationBuckets(): Promise<Map<string, number[]>> {
    const { values } = await this.#durations.get()
    const byPool = new Map<string, number[]>()
    for (const { labels, value, metricName } of values) {
      if (metricName !== 'latch_request_duration_seconds_bucket') continue
      // Bucket samples carry `le` besides the declared labels (a finite bound as a number, or "+Inf").
      const le = (labels as Record<string, string | number | undefined>).le
      const index = le === '+Inf' ? DURATION_BUCKETS.length : DURATION_BUCKETS.indexOf(Number(le))
      if (index === -1) continue
      const pool = String(labels.pool)
      let counts = byPool.get(pool)
      if (counts === undefined) byPool.set(pool, (counts = DURATION_BUCKETS.map(() => 0).concat(0)))
      counts[index] = value
    }
    return byPool
  }

  /** Counts and times one finished request (hot path). */
  record(request: FinishedRequest): void {
    const pool = request.poolName ?? ''
    const endpoint = request.endpointId ?? ''
    const status = request.status
    const cell = this.#cells.get(pool)?.get(endpoint)?.get(status) ?? this.#newCell(pool, endpoint, status)
    cell.value++
    const observe = this.#observers.get(pool) ?? this.#newObserver(pool)
    observe(request.durationMs / 1000)
    const mode = request.affinity?.mode
    if (mode === undefined) return
    const outcome = request.affinityOutcome ?? (request.errorCode === 'ERR_SESSION_UNAVAILABLE' ? 'unavailable' : undefined)
    if (outcome === undefined) return
    const counts = this.#affinity.get(pool)?.get(mode) ?? this.#newAffinityCounts(pool, mode)
    ;(counts[OUTCOME_INDEX[outcome]] as number)++
  }

  /** Drops the series of an endpoint that left its pool (discovery churn must not grow memory). */
  forget(pool: string, endpoint: string): void {
    this.#cells.get(pool)?.delete(endpoint)
  }

  #newCell(pool: string, endpoint: string, status: number): Cell {
    let endpoints = this.#cells.get(pool)
    if (endpoints === undefined) this.#cells.set(pool, (endpoints = new Map()))
    let statuses = endpoints.get(endpoint)
    if (statuses === undefined) endpoints.set(endpoint, (statuses = new Map()))
    const cell: Cell = { labels: { pool, endpoint, class: `${Math.floor(status / 100)}xx`, code: String(status) }, value: 0 }
    statuses.set(status, cell)
    return cell
  }

  #newAffinityCounts(pool: string, mode: AffinityMode): number[] {
    let modes = this.#affinity.get(pool)
    if (modes === undefined) this.#affinity.set(pool, (modes = new Map()))
    const counts = AFFINITY_OUTCOMES.map(() => 0)
    modes.set(mode, counts)
    return counts
  }

  #newObserver(pool: string): (seconds: number) => void {
    const { observe } = this.#durations.labels({ pool })
    this.#observers.set(pool, observe)
    return observe
  }
}
