/**
 * @module Per-request metrics: the only metrics work on the hot path.
 *
 * A finished request costs three Map lookups, one integer increment and one histogram observe;
 * label objects are built once per (pool, endpoint, status) and per pool, never per request. The
 * request counts live in plain cells and are handed to prom-client when Prometheus scrapes.
 */
import { Counter, Histogram, type Registry } from 'prom-client'
import type { FinishedRequest } from '../proxying/runtime.js'

/** Request duration buckets in seconds: proxy overhead (ms) up to slow upstreams (a minute). */
export const DURATION_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

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

  constructor(registry: Registry) {
    const cells = this.#cells
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

  /** Counts and times one finished request (hot path). */
  record(request: FinishedRequest): void {
    const pool = request.poolName ?? ''
    const endpoint = request.endpointId ?? ''
    const status = request.status
    const cell = this.#cells.get(pool)?.get(endpoint)?.get(status) ?? this.#newCell(pool, endpoint, status)
    cell.value++
    const observe = this.#observers.get(pool) ?? this.#newObserver(pool)
    observe(request.durationMs / 1000)
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

  #newObserver(pool: string): (seconds: number) => void {
    const { observe } = this.#durations.labels({ pool })
    this.#observers.set(pool, observe)
    return observe
  }
}
