/**
 * @module The bounded wait for a free endpoint slot: FIFO, capped in length and in time.
 *
 * When every usable endpoint is at `maxRequestsPerEndpoint`, a request waits here (HAProxy's
 * queue, Envoy's pending requests) instead of piling into an unbounded connection-pool queue. A full
 * queue or a wait past `queueTimeout` ends in 503 with Retry-After.
 */
import { ProxyError } from '../errors/proxy-error.js'
import type { Endpoint } from './endpoint.js'

/** A request waiting for a slot. */
export interface Waiter {
  /** Whether this waiter may use `endpoint` (not already tried; its session's endpoint if bound). */
  accepts(endpoint: Endpoint): boolean
  /** Called with an endpoint whose slot is now reserved for this waiter. */
  grant(endpoint: Endpoint): void
  /** Called when the wait ends without a slot. */
  reject(error: ProxyError): void
}

interface Entry {
  readonly waiter: Waiter
  readonly timer: NodeJS.Timeout
}

/** One pool's pending queue. */
export class PendingQueue {
  readonly #max: number
  readonly #timeoutMs: number
  readonly #entries: Entry[] = []
  /** Requests refused because the queue was full, and that timed out waiting (for metrics). */
  rejectedFull = 0
  timedOut = 0

  constructor(max: number, timeoutMs: number) {
    this.#max = max
    this.#timeoutMs = timeoutMs
  }

  get length(): number {
    return this.#entries.length
  }

  /** Queues `waiter`; returns false (and counts it) when the queue is full. */
  enqueue(waiter: Waiter): boolean {
    if (this.#entries.length >= this.#max) {
      this.rejectedFull++
      return false
    }
    const entry: Entry = {
      waiter,
      timer: setTimeout(() => this.#expire(entry), this.#timeoutMs),
    }
    this.#entries.push(entry)
    return true
  }

  /** Hands a slot of `endpoint` (which has one free) to the first waiter that accepts it. */
  offer(endpoint: Endpoint): boolean {
    const index = this.#entries.findIndex((entry) => entry.waiter.accepts(endpoint))
    if (index === -1) return false
    const [entry] = this.#entries.splice(index, 1) as [Entry]
    clearTimeout(entry.timer)
    entry.waiter.grant(endpoint)
    return true
  }

  /** Removes a waiter whose client went away. */
  remove(waiter: Waiter): void {
    const index = this.#entries.findIndex((entry) => entry.waiter === waiter)
    if (index === -1) return
    const [entry] = this.#entries.splice(index, 1) as [Entry]
    clearTimeout(entry.timer)
  }

  /** Ends every wait (shutdown). */
  rejectAll(error: ProxyError): void {
    for (const entry of this.#entries.splice(0)) {
      clearTimeout(entry.timer)
      entry.waiter.reject(error)
    }
  }

  #expire(entry: Entry): void {
    const index = this.#entries.indexOf(entry)
    if (index === -1) return
    this.#entries.splice(index, 1)
    this.timedOut++
    entry.waiter.reject(new ProxyError('ERR_QUEUE_TIMEOUT', `no endpoint slot became free within ${this.#timeoutMs} ms`, { retryAfter: 1 }))
  }
}
