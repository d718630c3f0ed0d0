/**
 * @module One proxied request: picks an endpoint, streams the request to it through undici, streams
 * the response back, retries when that is provably safe, and writes the access line at the end.
 *
 * The exchange is its own undici dispatch handler (the callback API is undici's native one, so no
 * adapter objects or Readable wrappers are created per request). Bodies are never buffered: request
 * bodies are handed to undici as the client stream, response chunks are written as they arrive, and
 * undici's parser is paused whenever the client socket pushes back.
 *
 * Retry rules (nginx `proxy_next_upstream`, Caddy `tryAgain`): a failure before the request reached a
 * connection (connect refused/timeout) is retried on another endpoint for any method; a reset after
 * sending, before any response byte, only for safe bodiless methods; nothing after response bytes
 * reached the client. A request body is never read twice.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Readable } from 'node:stream'
import { ProxyError, type ErrorCode } from '../errors/proxy-error.js'
import { nextRequestId } from '../observability/request-id.js'
import type { AccessRecord } from '../observability/access-log.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import { plainAddress } from './client-address.js'
import { sendError } from './error-response.js'
import type { PreparedRequest } from './request-headers.js'
import { clientResponseHeaders, earlyHintLinks, trailerPairs } from './response-headers.js'
import type { ProxyRuntime } from './runtime.js'
import { AttemptPhase, fromUpstreamError, isConnectFailure } from './upstream-errors.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
const EXCHANGE = Symbol('latch.exchange')
type ResponseWithExchange = ServerResponse & { [EXCHANGE]?: Exchange }

/** One shared listener for every response (no closure per request); finds its exchange on `res`. */
function onResponseClose(this: ServerResponse): void {
  ;(this as ResponseWithExchange)[EXCHANGE]?.closed()
}
const CLIENT_ABORT = new Error('client closed the connection')

/** A request in flight through the proxy. */
export class Exchange implements PreparedRequest, AccessRecord {
  // Filled by prepareRequestHeaders.
  upstreamHeaders: string[] = []
  hostHeader = ''
  clientIp = ''
  requestId = ''
  contentLength = -1
  chunked = false

  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly runtime: ProxyRuntime
  readonly method: string
  readonly startedAt = performance.now()
  /** Path (canonical) plus query, as sent upstream. */
  target = ''
  /** Canonical path without query, as logged. */
  logPath = ''
  pool: UpstreamPool | undefined
  routeDescription: string | undefined
  endpoint: Endpoint | undefined
  attempts = 0
  status = 0
  bytesOut = 0
  errorCode: ErrorCode | undefined
  body: Readable | null = null

  #tried: Endpoint[] | undefined
  #phase: AttemptPhase = AttemptPhase.Connecting
  #inflight = false
  #abort: ((error?: Error) => void) | undefined
  #resume: (() => void) | undefined
  #clientGone = false
  #logged = false

  constructor(req: IncomingMessage, res: ServerResponse, runtime: ProxyRuntime) {
    this.req = req
    this.res = res
    this.runtime = runtime
    this.method = req.method ?? 'GET'
    ;(res as ResponseWithExchange)[EXCHANGE] = this
    res.on('close', onResponseClose)
  }

  get durationMs(): number {
    return Math.round((performance.now() - this.startedAt) * 1000) / 1000
  }

  get poolName(): string | undefined {
    return this.pool?.name
  }

  get endpointId(): string | undefined {
    return this.endpoint?.id
  }

  /** Starts (or, after a retryable failure, restarts) the upstream attempt. */
  dispatch(pool: UpstreamPool): void {
    this.pool = pool
    const endpoint = pool.pick(this.#tried)
    if (endpoint === undefined) {
      this.fail(new ProxyError('ERR_NO_ENDPOINT', `no available endpoint in pool "${pool.name}"`, { retryAfter: 1 }))
      return
    }
    this.endpoint = endpoint
    this.attempts++
    this.#phase = AttemptPhase.Connecting
    this.#abort = undefined
    this.#inflight = true
    endpoint.inflight++
    endpoint.total++
    this.upstreamHeaders[1] = pool.hostFor(this.hostHeader, endpoint)
    endpoint.dispatcher.dispatch({ path: this.target, method: this.method, headers: this.upstreamHeaders, body: this.body }, this)
  }

  /** Answers with Latch's own error response (or cuts the connection if a response already started). */
  fail(error: ProxyError): void {
    this.errorCode = error.code
    if (this.requestId === '') this.requestId = nextRequestId()
    if (this.clientIp === '') this.clientIp = plainAddress(this.req.socket.remoteAddress)
    if (this.res.headersSent) {
      this.res.destroy()
      return
    }
    this.status = error.status
    // A request whose body was not (fully) read cannot leave the connection reusable.
    const close = this.body !== null || error.status === 400 || error.status === 413 || error.status === 431
    sendError(this.res, error, this.runtime.headerRules.requestIdHeader, this.requestId, close)
  }

  // ---- undici dispatch handler -------------------------------------------------------------

  onConnect(abort: (error?: Error) => void): void {
    if (this.#clientGone) {
      abort(CLIENT_ABORT)
      return
    }
    this.#abort = abort
    this.#phase = AttemptPhase.Sent
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode < 200) {
      if (statusCode === 103) this.#earlyHints(rawHeaders)
      return true
    }
    this.#resume = resume
    this.status = statusCode
    const headers = clientResponseHeaders(rawHeaders, this.runtime.headerRules.requestIdHeader, this.requestId)
    try {
      this.res.writeHead(statusCode, statusText === '' ? undefined : statusText, headers)
    } catch (error) {
      // Node refuses header names/values with illegal characters: a malicious or broken upstream.
      this.#abort?.(error as Error)
      return false
    }
    this.#phase = AttemptPhase.Responding
    return true
  }

  onData(chunk: Buffer): boolean {
    this.bytesOut += chunk.length
    if (this.res.write(chunk)) return true
    this.res.once('drain', this.#onDrain)
    return false
  }

  onComplete(trailers: string[] | Buffer[] | null): void {
    this.#settle()
    if (trailers !== null && trailers.length > 0) this.res.addTrailers(trailerPairs(trailers))
    this.res.end()
  }

  onError(error: Error): void {
    const phase = this.#phase
    this.#settle()
    // undici destroys a request body it was given when the attempt fails, and Node then drops
    // `req.socket` (null) even though the client is still connected and waiting for an answer.
    if (this.#clientGone || this.req.socket?.destroyed === true) {
      this.#clientGone = true
      return
    }
    const failure = fromUpstreamError(error, phase, this.endpoint?.id ?? '?')
    if (!this.res.headersSent && this.#mayRetry(failure, phase)) {
      ;(this.#tried ??= []).push(this.endpoint as Endpoint)
      this.dispatch(this.pool as UpstreamPool)
      return
    }
    this.runtime.logger.warn({ reqId: this.requestId, pool: this.pool?.name, endpoint: this.endpoint?.id, code: failure.code, err: failure.message }, 'upstream request failed')
    this.fail(failure)
  }

  // ---- internals ------------------------------------------------------------------------------

  #mayRetry(failure: ProxyError, phase: AttemptPhase): boolean {
    if (this.attempts > (this.pool as UpstreamPool).config.retries) return false
    // A body stream that was started cannot be replayed.
    if (this.body !== null && (phase !== AttemptPhase.Connecting || this.body.readableDidRead)) return false
    if (isConnectFailure(failure, phase)) return true
    return phase === AttemptPhase.Sent && failure.code === 'ERR_UPSTREAM_RESET' && this.body === null && SAFE_METHODS.has(this.method)
  }

  /** Ends the accounting of the current attempt (exactly once per attempt). */
  #settle(): void {
    if (!this.#inflight) return
    this.#inflight = false
    ;(this.endpoint as Endpoint).inflight--
  }

  #earlyHints(rawHeaders: Buffer[]): void {
    const links = earlyHintLinks(rawHeaders)
    if (links.length > 0 && !this.res.headersSent) this.res.writeEarlyHints({ link: links })
  }

  readonly #onDrain = (): void => {
    this.#resume?.()
  }

  /** Called once the client response is done or the client went away; writes the access line. */
  closed(): void {
    if (!this.res.writableFinished) {
      // The client went away before the response was complete: stop the upstream work, blame nobody.
      this.#clientGone = true
      // Logged as 499 (the ERRORS table's status) even when headers went out: nothing was delivered
      // in full. An upstream failure that cut the response keeps its own code and status.
      if (this.errorCode === undefined) {
        this.errorCode = 'ERR_CLIENT_ABORTED'
        this.status = 499
      }
      this.#abort?.(CLIENT_ABORT)
    }
    this.#log()
  }

  #log(): void {
    if (this.#logged) return
    this.#logged = true
    if (this.runtime.accessLog.enabled) this.runtime.accessLog.write(this)
  }
}
