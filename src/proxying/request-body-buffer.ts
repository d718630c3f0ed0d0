/**
 * @module Reads the start of a request body before an endpoint is chosen (nginx's request buffering,
 * bounded): a body of at most `bufferSize` bytes is read whole, a larger or open-ended one up to
 * `bufferSize` bytes, and only then does the request take an upstream slot. A client that trickles
 * its body therefore holds a connection and at most `bufferSize` bytes of memory, never a slot.
 *
 * The chunks are kept as they came (no copy); a body that arrived in one chunk is forwarded as that
 * very Buffer. Listeners are shared functions that find their PendingBody on the stream, so a
 * request costs one object, not a set of closures.
 */
import type { Readable } from 'node:stream'
import { ProxyError } from '../errors/proxy-error.js'
import type { UploadWatch, WatchedUpload } from './upload-watch.js'

/** How the reading ended. */
export const BufferOutcome = {
  Reading: 0,
  /** The whole body is in `chunks`. */
  Whole: 1,
  /** `chunks` hold the first `bufferSize` (or more) bytes; the rest is still to come. */
  Prefix: 2,
  /** Too slow or too large: `error` says which. */
  Failed: 3,
  /** The client went away or its body was malformed; nothing is left to answer. */
  Gone: 4,
} as const
export type BufferOutcome = (typeof BufferOutcome)[keyof typeof BufferOutcome]

const PENDING = Symbol('latch.pendingBody')
type Carrier = Readable & { [PENDING]?: PendingBody<unknown> | undefined }

/** What to read: how much at most, within which limit, by when (in the watch's clock). */
export interface BufferRequest {
  /** The declared Content-Length, or -1 for a body of unknown length (chunked, HTTP/2). */
  readonly contentLength: number
  readonly bufferSize: number
  /** The body limit; an unknown-length body over it fails with ERR_BODY_TOO_LARGE. */
  readonly limit: number
  readonly deadline: number
}

/** The start of one request body being read; `done` is called once, with the outcome set. */
export class PendingBody<T> implements WatchedUpload {
  readonly owner: T
  readonly chunks: Buffer[] = []
  received = 0
  outcome: BufferOutcome = BufferOutcome.Reading
  error: ProxyError | undefined
  readonly #req: Carrier
  readonly #request: BufferRequest
  /** Bytes after which reading stops though the body goes on: Infinity when it fits the buffer. */
  readonly #prefixSize: number
  /** Bytes the client must send before the deadline. */
  readonly #target: number
  readonly #done: (body: PendingBody<T>) => void
  #watch: UploadWatch | undefined

  constructor(req: Readable, owner: T, request: BufferRequest, done: (body: PendingBody<T>) => void) {
    this.#req = req as Carrier
    this.owner = owner
    this.#request = request
    const fits = request.contentLength >= 0 && request.contentLength <= request.bufferSize
    this.#prefixSize = fits ? Infinity : request.bufferSize
    this.#target = fits ? request.contentLength : request.bufferSize
    this.#done = done
  }

  /** Starts reading; `watch` enforces the deadline. */
  start(watch: UploadWatch): void {
    const req = this.#req
    req[PENDING] = this as PendingBody<unknown>
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onGone)
    req.on('close', onGone)
    this.#watch = watch
    watch.add(this)
  }

  /** The whole body as one Buffer: the chunk itself when it came in one piece. */
  get body(): Buffer {
    return this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.received)
  }

  check(now: number): boolean {
    if (this.outcome !== BufferOutcome.Reading) return false
    if (now < this.#request.deadline) return true
    this.#finish(BufferOutcome.Failed, new ProxyError('ERR_BODY_TIMEOUT', `the client sent ${this.received} of the first ${this.#target} bytes of its request body within server.requestBody.bufferTimeout`))
    return false
  }

  take(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.received += chunk.length
    if (this.received > this.#request.limit) this.#finish(BufferOutcome.Failed, new ProxyError('ERR_BODY_TOO_LARGE', `request body exceeds ${this.#request.limit} bytes`))
    else if (this.received >= this.#prefixSize) this.#finish(BufferOutcome.Prefix, undefined)
  }

  ended(): void {
    this.#finish(BufferOutcome.Whole, undefined)
  }

  gone(): void {
    this.#finish(BufferOutcome.Gone, undefined)
  }

  #finish(outcome: BufferOutcome, error: ProxyError | undefined): void {
    if (this.outcome !== BufferOutcome.Reading) return
    this.outcome = outcome
    this.error = error
    const req = this.#req
    // The rest of a prefix-read body stays in the request stream for whoever pipes it next.
    if (outcome === BufferOutcome.Prefix) req.pause()
    req.off('data', onData)
    req.off('end', onEnd)
    req.off('error', onGone)
    req.off('close', onGone)
    req[PENDING] = undefined
    this.#watch?.delete(this)
    this.#done(this)
  }
}

function onData(this: Carrier, chunk: Buffer): void {
  this[PENDING]?.take(chunk)
}

function onEnd(this: Carrier): void {
  this[PENDING]?.ended()
}

function onGone(this: Carrier): void {
  this[PENDING]?.gone()
}
