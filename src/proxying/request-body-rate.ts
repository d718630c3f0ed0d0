/**
 * @module The minimum upload rate of a request body that streams upstream: a body that delivers
 * less than `minBytes` in a `window` while Latch is waiting for it is cut with ERR_BODY_TOO_SLOW.
 * undici then aborts the upstream request and the exchange answers 408, or cuts the client
 * connection when the response had already started.
 */
import { ProxyError } from '../errors/proxy-error.js'
import type { BodyLimit } from './body-limit.js'
import { MinRateWindow, type WatchedUpload } from './upload-watch.js'

/** One streamed body under the minimum-rate rule. */
export class StreamedUpload implements WatchedUpload {
  readonly #body: BodyLimit
  readonly #window: MinRateWindow

  constructor(body: BodyLimit, minBytes: number, windowMs: number, now: number) {
    this.#body = body
    this.#window = new MinRateWindow(minBytes, windowMs, now)
  }

  check(now: number): boolean {
    const body = this.#body
    // Ended: the client delivered everything. Destroyed: cut, or the exchange ended some other way.
    if (body.destroyed || body.writableEnded) return false
    // Latch is waiting for the client only while undici reads the body and nothing is left unread;
    // a paused body (the endpoint pushing back) or one nobody reads yet (queued) says nothing about the client.
    const waitingForClient = body.readableFlowing === true && body.readableLength === 0 && body.writableLength === 0
    if (this.#window.sample(now, body.received, waitingForClient)) return true
    body.destroy(new ProxyError('ERR_BODY_TOO_SLOW', `the request body arrived at less than ${this.#window.minBytes} bytes per ${this.#window.windowMs} ms (server.requestBody.minRate)`))
    return false
  }
}
