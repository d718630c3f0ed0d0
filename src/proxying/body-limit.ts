/**
 * @module The request body as it streams upstream: enforces the body limit (for bodies without a
 * Content-Length) and counts the bytes that went through (for the minimum upload rate).
 */
import type { Readable } from 'node:stream'
import { Transform, type TransformCallback } from 'node:stream'
import { ProxyError } from '../errors/proxy-error.js'

/** Passes chunks through until more than `limit` bytes went by, then fails with ERR_BODY_TOO_LARGE. */
export class BodyLimit extends Transform {
  /** Bytes passed through so far. */
  received = 0
  readonly #limit: number

  constructor(limit: number) {
    super()
    this.#limit = limit
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.received += chunk.length
    if (this.received > this.#limit) callback(new ProxyError('ERR_BODY_TOO_LARGE', `request body exceeds ${this.#limit} bytes`))
    else callback(null, chunk)
  }
}

/**
 * Streams `req` through a BodyLimit, after `prefix`: chunks already read from `req` (the buffered
 * start of a body too large to buffer whole). A client error ends the limited stream too.
 */
export function limitBody(req: Readable, limit: number, prefix?: readonly Buffer[]): BodyLimit {
  const limited = new BodyLimit(limit)
  // undici listens for body errors only while an attempt uses the body; a client that aborts before
  // or after that (no endpoint, early upstream answer) must not crash the process.
  limited.on('error', ignoreError)
  req.once('error', (error) => limited.destroy(error))
  if (prefix !== undefined) for (const chunk of prefix) limited.write(chunk)
  req.pipe(limited)
  return limited
}

function ignoreError(): void {
  // Errors reach the exchange through undici; this listener only keeps them from being unhandled.
}
