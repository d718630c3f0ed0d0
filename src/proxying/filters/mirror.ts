/**
 * @module Gateway API `RequestMirror`: a copy of the request to an endpoint of another pool, its
 * answer read and dropped.
 *
 * The copy never delays or fails the real request: it is sent after the real one was dispatched,
 * only to an endpoint with a free request slot (never queued: a busy mirror pool loses copies, not
 * time), and whatever happens to it is only counted. Bodies are never buffered for a mirror: a
 * request without a body, or whose body was read whole before dispatch (`server.requestBody.bufferSize`,
 * 64 KiB by default), is mirrored with the very same bytes; a body that streams to its endpoint is
 * consumed once by the real request, so such a request is not mirrored (counted in `skipped`).
 */
import type { Readable } from 'node:stream'
import type { Endpoint } from '../../upstream/endpoint.js'
import type { UpstreamPool } from '../../upstream/upstream-pool.js'

/** What a mirror reads of the request being proxied. */
export interface MirroredRequest {
  readonly method: string
  /** Path plus query as sent upstream (after rewrites). */
  readonly target: string
  /** Headers as sent upstream (after header filters); index 1 is the Host value. */
  readonly upstreamHeaders: readonly string[]
  readonly body: Readable | Buffer | null
}

/** Counts of one mirror filter (per config; a reload starts new counts). */
export interface MirrorCounts {
  sent: number
  /** Not sent: streamed body, or no free endpoint slot in the mirror pool. */
  skipped: number
  /** Sent, and failed (connect, reset, timeout); the real request never sees these. */
  failed: number
}

/** A compiled `RequestMirror` filter. */
export class Mirror {
  readonly pool: UpstreamPool
  /** Share of requests mirrored, 0–1. */
  readonly share: number
  readonly counts: MirrorCounts = { sent: 0, skipped: 0, failed: 0 }
  readonly #random: () => number

  constructor(pool: UpstreamPool, share: number, random: () => number = Math.random) {
    this.pool = pool
    this.share = share
    this.#random = random
  }

  /** Sends a copy of `request` when it falls within the share; `clientHost` is the Host the client sent. */
  send(request: MirroredRequest, clientHost: string): void {
    if (this.share < 1 && this.#random() >= this.share) return
    const body = request.body
    if (body !== null && !Buffer.isBuffer(body)) {
      this.counts.skipped++
      return
    }
    const picked = this.pool.pick(undefined)
    if (picked === undefined || picked === 'full') {
      this.counts.skipped++
      return
    }
    const headers = request.upstreamHeaders.slice()
    headers[1] = this.pool.hostFor(clientHost, picked)
    this.counts.sent++
    picked.inflight++
    picked.dispatcher.dispatch({ path: request.target, method: request.method, headers, body }, new MirrorCopy(this, picked))
  }
}

/** undici handler of one mirrored copy: reads the answer and drops it, frees the slot at the end. */
class MirrorCopy {
  readonly #mirror: Mirror
  readonly #endpoint: Endpoint
  #ended = false

  constructor(mirror: Mirror, endpoint: Endpoint) {
    this.#mirror = mirror
    this.#endpoint = endpoint
  }

  onConnect(): void {}

  onHeaders(): boolean {
    return true
  }

  onData(): boolean {
    return true
  }

  onComplete(): void {
    this.#end()
  }

  onError(): void {
    this.#mirror.counts.failed++
    this.#end()
  }

  #end(): void {
    if (this.#ended) return
    this.#ended = true
    this.#endpoint.inflight--
    this.#mirror.pool.slotFreed(this.#endpoint)
  }
}
