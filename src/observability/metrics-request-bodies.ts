/**
 * @module Request body metrics (`server.requestBody`): bodies read before dispatch, their bytes, and
 * the requests cut for a slow body. Counted in plain cells per pool, handed to prom-client at scrape
 * time; a request without a buffered body and without a body error costs one comparison.
 */
import { Counter, type Registry } from 'prom-client'
import type { FinishedRequest } from '../proxying/runtime.js'

/** `reason` label of latch_request_body_cuts_total, by error code. */
const CUT_REASONS: Readonly<Record<string, 0 | 1>> = { ERR_BODY_TIMEOUT: 0, ERR_BODY_TOO_SLOW: 1 }
const REASON_NAMES = ['buffer_timeout', 'min_rate'] as const

interface PoolCells {
  whole: number
  prefix: number
  bytes: number
  readonly cuts: [number, number]
}

/** Counts what the request body policy did, by pool ("" for requests without a pool). */
export class RequestBodyMetrics {
  readonly #pools = new Map<string, PoolCells>()

  constructor(registry: Registry) {
    const pools = this.#pools
    const registers = [registry]
    new Counter({ name: 'latch_request_bodies_buffered_total', help: 'Request bodies read before an endpoint was chosen, by pool and kind: whole (the body fitted server.requestBody.bufferSize) or prefix (its first bufferSize bytes, the rest streamed).', labelNames: ['pool', 'kind'], registers, collect() {
      this.reset()
      for (const [pool, cells] of pools) {
        this.inc({ pool, kind: 'whole' }, cells.whole)
        this.inc({ pool, kind: 'prefix' }, cells.prefix)
      }
    } })
    new Counter({ name: 'latch_request_body_buffered_bytes_total', help: 'Bytes of request bodies read before an endpoint was chosen, by pool.', labelNames: ['pool'], registers, collect() {
      this.reset()
      for (const [pool, cells] of pools) this.inc({ pool }, cells.bytes)
    } })
    new Counter({ name: 'latch_request_body_cuts_total', help: 'Requests cut for a slow body, by pool and reason: buffer_timeout (ERR_BODY_TIMEOUT, the buffered part came too late; no endpoint involved) or min_rate (ERR_BODY_TOO_SLOW, a streamed body fell below server.requestBody.minRate).', labelNames: ['pool', 'reason'], registers, collect() {
      this.reset()
      for (const [pool, cells] of pools) REASON_NAMES.forEach((reason, index) => this.inc({ pool, reason }, cells.cuts[index] as number))
    } })
  }

  /** Counts one finished request (hot path). */
  record(request: FinishedRequest): void {
    const cut = request.errorCode === undefined ? undefined : CUT_REASONS[request.errorCode]
    if (request.bufferedBytes === 0 && cut === undefined) return
    const pool = request.poolName ?? ''
    const cells = this.#pools.get(pool) ?? this.#newPool(pool)
    if (request.bufferedBytes > 0) {
      if (request.bodyBufferedWhole) cells.whole++
      else cells.prefix++
      cells.bytes += request.bufferedBytes
    }
    if (cut !== undefined) cells.cuts[cut]++
  }

  #newPool(pool: string): PoolCells {
    const cells: PoolCells = { whole: 0, prefix: 0, bytes: 0, cuts: [0, 0] }
    this.#pools.set(pool, cells)
    return cells
  }
}
