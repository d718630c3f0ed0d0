/**
 * @module Gateway API `RequestMirror`: a copy of the request to an endpoint of another pool, its
 * answer read and dropped.
 *
 * The copy never delays or fails the real request: it is sent after the real one was dispatched,
 * only to an endpoint with a free request slot (never queued: a busy mirror pool loses copies, not
 * time), and whatever happens to it is only counted. Bodies are never buffered for a mirror: a body
 * read whole before dispatch (`server.requestBody.bufferSize`) is sent with the very same bytes; a
 * streamed body passes through a tee (MirrorTee) that hands each chunk to the real request and to the
 * copies as it goes by. The real request sets the pace: a copy that falls more than MAX_COPY_LAG
 * bytes behind is cut off (counted as failed), never waited for.
 */
import { PassThrough, pipeline, Transform, type Readable, type TransformCallback } from 'node:stream'
import type { Endpoint } from '../../upstream/endpoint.js'
import type { UpstreamPool } from '../../upstream/upstream-pool.js'

/** What a mirror reads of the request being proxied. */
export interface MirroredRequest {
  readonly method: string
  /** Path plus query as sent upstream (after rewrites). */
  readonly target: string
  /** Headers as sent upstream (after header filters); index 1 is the Host value. */
  readonly upstreamHeaders: readonly string[]
  /** A streamed body is replaced by a tee (MirrorTee) when a copy takes it. */
  body: Readable | Buffer | null
}

/** How far (bytes) a mirrored copy of a streamed body may fall behind the real request before it is cut off. */
export const MAX_COPY_LAG = 1024 * 1024

/** Counts of one mirror filter (per config; a reload starts new counts). */
export interface MirrorCounts {
  sent: number
  /** Not sent: no free endpoint slot in the mirror pool (or none usable). */
  skipped: number
  /** Sent, and failed (connect, reset, timeout, or cut off for falling behind); the real request never sees these. */
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

  /** Whether this request falls within the mirrored share (drawn once per request). */
  sampled(): boolean {
    return this.share >= 1 || this.#random() < this.share
  }

  /**
   * Sends a copy of `request` (already sampled); `clientHost` is the Host the client sent, `body`
   * the copy's body (the request's own Buffer or null, or this copy's branch of a MirrorTee).
   */
  send(request: MirroredRequest, clientHost: string, body: Readable | Buffer | null): void {
    const picked = this.pool.pick(undefined)
    if (picked === undefined || picked === 'full') {
      this.counts.skipped++
      if (body !== null && !Buffer.isBuffer(body)) body.destroy()
      return
    }
    const headers = request.upstreamHeaders.slice()
    headers[1] = this.pool.hostFor(clientHost, picked)
    this.counts.sent++
    picked.inflight++
    picked.dispatcher.dispatch({ path: request.target, method: request.method, headers, body }, new MirrorCopy(this, picked))
  }
}

/** Sends `request` to every mirror of `mirrors` that samples it; a streamed body goes through a MirrorTee. */
export function sendMirrors(mirrors: readonly Mirror[], request: MirroredRequest, clientHost: string): void {
  let chosen: Mirror[] | undefined
  for (const mirror of mirrors) if (mirror.sampled()) (chosen ??= []).push(mirror)
  if (chosen === undefined) return
  const body = request.body
  if (body === null || Buffer.isBuffer(body)) {
    for (const mirror of chosen) mirror.send(request, clientHost, body)
    return
  }
  // A copy's errors are its own: the listener keeps one that failed before undici took it from being unhandled.
  const copies = chosen.map(() => new PassThrough().on('error', ignore))
  const tee = new MirrorTee(copies)
  // An error of the client's body (too large, too slow, aborted) reaches the real request through the
  // tee (pipeline destroys it with that error) and ends the copies.
  pipeline(body, tee, (error) => {
    if (error !== undefined && error !== null) for (const copy of copies) copy.destroy(error)
  })
  request.body = tee
  chosen.forEach((mirror, index) => mirror.send(request, clientHost, copies[index] as PassThrough))
}

/**
 * Passes a streamed body on to the real request unchanged and writes each chunk to the copies,
 * without ever waiting for them: a copy more than MAX_COPY_LAG bytes behind is destroyed.
 */
export class MirrorTee extends Transform {
  readonly #copies: readonly PassThrough[]
  /** The whole body went through: the copies were ended and are left to finish on their own. */
  #flushed = false

  constructor(copies: readonly PassThrough[]) {
    super()
    this.#copies = copies
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    for (const copy of this.#copies) {
      if (copy.destroyed) continue
      if (copy.writableLength > MAX_COPY_LAG) copy.destroy(new Error('mirrored copy fell behind the real request'))
      else copy.write(chunk)
    }
    callback(null, chunk)
  }

  override _flush(callback: TransformCallback): void {
    this.#flushed = true
    for (const copy of this.#copies) if (!copy.destroyed) copy.end()
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#flushed || error !== null) for (const copy of this.#copies) copy.destroy(error ?? new Error('the real request ended before its body did'))
    callback(error)
  }
}

function ignore(): void {}

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
