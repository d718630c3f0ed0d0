/**
 * @module Enforces a request body limit while streaming, for bodies without a Content-Length.
 */
import type { IncomingMessage } from 'node:http'
import { Transform, type TransformCallback } from 'node:stream'
import { ProxyError } from '../errors/proxy-error.js'

/** Passes chunks through until more than `limit` bytes went by, then fails with ERR_BODY_TOO_LARGE. */
export class BodyLimit extends Transform {
  #remaining: number
  readonly #limit: number

  constructor(limit: number) {
    super()
    this.#limit = limit
    this.#remaining = limit
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#remaining -= chunk.length
    if (this.#remaining < 0) callback(new ProxyError('ERR_BODY_TOO_LARGE', `request body exceeds ${this.#limit} bytes`))
    else callback(null, chunk)
  }
}

/** Streams `req` through a BodyLimit; a client error ends the limited stream too. */
export function limitBody(req: IncomingMessage, limit: number): BodyLimit {
  const limited = new BodyLimit(limit)
  // undici listens for body errors only while an attempt uses the body; a client that aborts before
  // or after that (no endpoint, early upstream answer) must not crash the process.
  limited.on('error', ignoreError)
  req.once('error', (error) => limited.destroy(error))
  req.pipe(limited)
  return limited
}

function ignoreError(): void {
  // Errors reach the exchange through undici; this listener only keeps them from being unhandled.
}
