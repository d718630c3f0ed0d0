/**
 * @module One proxied request: picks an endpoint, streams the request to it through undici, streams
 * the response back, retries when that is provably safe, and writes the access line at the end.
 *
 * The exchange is its own undici dispatch handler (the callback API is undici's native one, so no
 * adapter objects or Readable wrappers are created per request). Request bodies arrive as request-body.ts
 * prepared them (read whole up to server.requestBody.bufferSize, else streamed); response chunks are
 * written as they arrive, and undici's parser is paused whenever the client socket pushes back.
 *
 * What may be retried and where is decided by retry-rules.ts. A session bound to the failing
 * endpoint moves with the retry (`rebound`), except in an `onUnavailable: fail` pool: there it gets
 * 503 ERR_SESSION_UNAVAILABLE and keeps its binding.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import { ProxyError, type ErrorCode } from '../errors/proxy-error.js'
import { isStoreUnavailable, type StoreUnavailableError } from '../stores/store-error.js'
import { LogThrottle } from '../observability/log-throttle.js'
import { nextRequestId } from '../observability/request-id.js'
import type { SpanSource } from '../observability/request-span.js'
import type { PassiveFailureKind } from '../config/health-schema.js'
import type { Endpoint } from '../upstream/endpoint.js'
import { noSession, type AffinityOutcome, type SessionAffinity, type SessionLookup } from '../affinity/session-affinity.js'
import type { Waiter } from '../upstream/pending-queue.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import { peerAddress } from './client-address.js'
import { sendError } from './error-response.js'
import { endGrpcCall } from './grpc-error-response.js'
import type { PreparedRequest } from './request-headers.js'
import { clientResponseHeaders, earlyHintLinks, trailerPairs } from './response-headers.js'
import type { ProxyRuntime } from './runtime.js'
import type { PoolTarget } from './pool-target.js'
import { bindSession, commitSession, decideSession, sessionUnavailable, type SessionRequest } from './session-step.js'
import { AttemptPhase, fromUpstreamError, isConnectFailure, passiveFailureKind } from './upstream-errors.js'
import { isRetryableFailure, isRetryableStatus, isRetryableTimeout, sessionMustStay, untriedEndpointLeft } from './retry-rules.js'
import type { FilteredRequest, TimedRequest } from './filters/filtered-request.js'
const EXCHANGE = Symbol('latch.exchange')
type ResponseWithExchange = ServerResponse & { [EXCHANGE]?: Exchange }

/** One shared listener for every response (no closure per request); finds its exchange on `res`. */
function onResponseClose(this: ServerResponse): void {
  ;(this as ResponseWithExchange)[EXCHANGE]?.closed()
}
const CLIENT_ABORT = new Error('client closed the connection')
/** Latch out of descriptors fails every request at once: one line a second for the whole process. */
const LOCAL_FAILURE_LOG = new LogThrottle(1000)

/** A request in flight through the proxy. */
export class Exchange implements PreparedRequest, SpanSource, Waiter, SessionRequest, TimedRequest {
  // Filled by prepareRequestHeaders.
  upstreamHeaders: string[] = []
  hostHeader = ''
  clientIp = ''
  requestId = ''
  contentLength = -1
  chunked = false
  cookieHeader: string | undefined = undefined
  cookieIndex = -1
  secure = false
  // Trace Context (trace-context.ts), when tracing is on; '' otherwise.
  traceId = ''
  spanId = ''
  parentSpanId = ''
  traceFlags = 0

  readonly req: IncomingMessage
  /** The client connection, kept here: undici sets `req.socket` to null once it sent `req` as a body. */
  readonly socket: Socket
  readonly res: ServerResponse
  readonly runtime: ProxyRuntime
  readonly method: string
  readonly startedAt = performance.now()
  /** Path (canonical) plus query, as sent upstream. */
  target = ''
  /** Canonical path without query, as logged. */
  logPath = ''
  pool: UpstreamPool | undefined
  /** The pool's affinity (set with the pool by dispatch). */
  affinity: SessionAffinity | undefined
  routeDescription: string | undefined
  /** The matched rule's action id (access log `rule`). */
  ruleId: string | undefined
  endpoint: Endpoint | undefined
  attempts = 0
  status = 0
  /** The status the endpoint answered when its response broke off after the head was relayed (else undefined). */
  upstreamStatus: number | undefined
  bytesOut = 0
  errorCode: ErrorCode | undefined
  /** The request body: the client stream, a limited/counted stream, or the whole body read before dispatch. */
  body: Readable | Buffer | null = null
  /** Bytes of the body read before dispatch (request-body.ts), and whether that was all of it. */
  bufferedBytes = 0
  bodyBufferedWhole = false
  /** The request's session (pools with affinity only). */
  session: SessionLookup | undefined
  affinityOutcome: AffinityOutcome | undefined
  /** Gateway API filters, timeouts and retry of the rule and backend (filters/); undefined for rules without them. */
  filtered: FilteredRequest | undefined

  /** What the route resolved to: the pool and its affinity. */
  #routeTarget: PoolTarget | undefined
  #tried: Endpoint[] | undefined
  #phase: AttemptPhase = AttemptPhase.Connecting
  #inflight = false
  /** This attempt's request was fully sent and its response head has not arrived (counted in endpoint.awaiting). */
  #awaiting = false
  /** This attempt's final response head arrived. */
  #answered = false
  /** Passive health already has this attempt's verdict (one per attempt: a 5xx that is then cut counts once). */
  #judged = false
  #abort: ((error?: Error) => void) | undefined
  #resume: (() => void) | undefined
  #clientGone = false
  #queued = false
  #discarding = false
  /** When queued for a session's own endpoint: the only endpoint this request may use. */
  #required: Endpoint | undefined
  #rebinding = false
  /** Learn mode wants the first body chunk: the response's raw headers, kept until it arrives. */
  #learnHeaders: Buffer[] | undefined
  #logged = false
  // performance.now() of the last attempt's dispatch, request on a connection, response head, response end (0: not yet).
  #dispatchedAt = 0
  #connectedAt = 0
  #headersAt = 0
  #completedAt = 0

  constructor(req: IncomingMessage, res: ServerResponse, runtime: ProxyRuntime) {
    this.req = req
    this.socket = req.socket
    this.res = res
    this.runtime = runtime
    this.method = req.method ?? 'GET'
    runtime.traffic.inflight++
    runtime.traffic.lastRequestAt = this.startedAt
    ;(res as ResponseWithExchange)[EXCHANGE] = this
    res.on('close', onResponseClose)
  }

  get durationMs(): number {
    return Math.round((performance.now() - this.startedAt) * 1000) / 1000
  }

  get httpVersion(): string {
    return this.req.httpVersion
  }

  get query(): string | undefined {
    const mark = this.target.indexOf('?')
    return mark === -1 ? undefined : this.target.slice(mark + 1)
  }

  get upstreamConnectMs(): number | undefined {
    return sinceDispatch(this.#dispatchedAt, this.#connectedAt)
  }

  get upstreamFirstByteMs(): number | undefined {
    return sinceDispatch(this.#dispatchedAt, this.#headersAt)
  }

  get upstreamTotalMs(): number | undefined {
    return sinceDispatch(this.#dispatchedAt, this.#completedAt)
  }

  /** A request header's value for the access log (lower-case `name`); several joined with `, `. */
  requestHeader(name: string): string | undefined {
    const raw = this.req.rawHeaders
    let value: string | undefined
    for (let i = 0; i < raw.length; i += 2) {
      const header = raw[i] as string
      if (header.length === name.length && header.toLowerCase() === name) value = value === undefined ? (raw[i + 1] as string) : `${value}, ${raw[i + 1] as string}`
    }
    return value
  }

  get poolName(): string | undefined {
    return this.pool?.name
  }

  get endpointId(): string | undefined {
    return this.endpoint?.id
  }

  /** Starts proxying to the target's pool (counts the request in the pool's retry budget). */
  dispatch(target: PoolTarget): void {
    // A route timeout may have answered while the body was being read.
    if (this.#clientGone) return
    const pool = target.pool
    this.pool = pool
    this.#routeTarget = target
    pool.retryBudget.recordRequest(this.startedAt)
    if (this.filtered !== undefined) this.filtered.dispatched(this)
    const affinity = target.affinity
    this.affinity = affinity
    if (affinity === undefined) return this.#attempt()
    const lookup = affinity.lookup(this)
    if (lookup instanceof Promise) lookup.then((found) => this.#withSession(found), (error: unknown) => this.#storeFailed(error))
    else this.#withSession(lookup)
  }

  /** Sends to the session's endpoint when it can serve, else rebinds, fails or balances anew. */
  #withSession(lookup: SessionLookup): void {
    if (this.#clientGone) return
    switch (decideSession(this.#routeTarget as PoolTarget, this, lookup)) {
      case 'hit':
        return this.#use(lookup.bound as Endpoint, true)
      case 'refuse':
        return this.#failSession()
      case 'rebind':
        this.#rebinding = true
        break
      case 'pick':
    }
    this.#attempt()
  }

  /**
   * The store failed. A Redis store set to failClosed rejects while Redis is unavailable: 503. Any
   * other failure (the store normally degrades by itself): serve without affinity rather than fail.
   */
  #storeFailed(error: unknown): void {
    if (isStoreUnavailable(error)) return this.#storeUnavailable(error)
    this.runtime.logger.warn({ reqId: this.requestId, pool: this.pool?.name, err: (error as Error).message }, 'affinity store failed; balancing without affinity')
    this.#withSession(noSession(false))
  }

  #storeUnavailable(error: StoreUnavailableError): void {
    if (this.#clientGone) return
    this.fail(new ProxyError('ERR_STORE_UNAVAILABLE', `the affinity store is unavailable and store.failClosed is set (${error.message})`, { retryAfter: 1 }))
  }

  /** One attempt: an endpoint with a free slot now, a place in the pending queue, or an error. */
  #attempt(): void {
    const pool = this.pool as UpstreamPool
    const picked = pool.pick(this.#tried)
    if (picked === undefined) {
      this.fail(new ProxyError('ERR_NO_ENDPOINT', `no available endpoint in pool "${pool.name}"`, { retryAfter: 1 }))
    } else if (picked !== 'full') {
      this.#bindAndSend(picked)
    } else {
      this.#queue(undefined)
    }
  }

  /** Records a new binding for the session (a racing replica may have won) and sends. */
  #bindAndSend(picked: Endpoint): void {
    const affinity = this.affinity
    if (affinity === undefined || this.session?.bindable !== true) return this.#send(picked)
    const bound = bindSession(affinity, this, picked, this.#rebinding)
    if (bound instanceof Promise) bound.then((endpoint) => this.#use(endpoint, endpoint !== picked), (error: unknown) => (isStoreUnavailable(error) ? this.#storeUnavailable(error) : this.#send(picked)))
    else this.#use(bound, bound !== picked)
  }

  /** Sends to `endpoint`, or waits for one of its slots when it is full. */
  #use(endpoint: Endpoint, required: boolean): void {
    if (this.#clientGone) return
    if (!endpoint.full) return this.#send(endpoint)
    this.#queue(required ? endpoint : undefined)
  }

  #queue(required: Endpoint | undefined): void {
    const pool = this.pool as UpstreamPool
    this.#required = required
    if (pool.waitForSlot(this)) this.#queued = true
    else this.fail(new ProxyError('ERR_QUEUE_FULL', `every endpoint of pool "${pool.name}" is at its request limit and the pending queue is full`, { retryAfter: 1 }))
  }

  #send(endpoint: Endpoint): void {
    this.endpoint = endpoint
    this.attempts++
    this.#phase = AttemptPhase.Connecting
    this.#abort = undefined
    this.#inflight = true
    this.#answered = false
    this.#judged = false
    endpoint.inflight++
    endpoint.total++
    this.upstreamHeaders[1] = this.filtered?.upstreamHost ?? (this.pool as UpstreamPool).hostFor(this.hostHeader, endpoint)
    this.#dispatchedAt = performance.now()
    this.#connectedAt = this.#headersAt = this.#completedAt = 0
    endpoint.dispatcherFor(this.clientIp, this.socket).dispatch({ path: this.target, method: this.method, headers: this.upstreamHeaders, body: this.body }, this)
  }

  /** Replaces (or, with undefined, removes) the Cookie header sent upstream. */
  setUpstreamCookie(value: string | undefined): void {
    if (this.cookieIndex === -1) return
    if (value !== undefined) {
      this.upstreamHeaders[this.cookieIndex] = value
      return
    }
    this.upstreamHeaders.splice(this.cookieIndex - 1, 2)
    this.cookieIndex = -1
  }

  // ---- pending-queue waiter ------------------------------------------------------------------

  accepts(endpoint: Endpoint): boolean {
    if (this.#required !== undefined) return endpoint === this.#required
    return (this.pool as UpstreamPool).isUsable(endpoint) && this.#tried?.includes(endpoint) !== true
  }

  grant(endpoint: Endpoint): void {
    this.#queued = false
    if (this.#clientGone) (this.pool as UpstreamPool).slotFreed(endpoint)
    else if (this.#required !== undefined) this.#send(endpoint)
    else this.#bindAndSend(endpoint)
  }

  reject(error: ProxyError): void {
    this.#queued = false
    this.fail(error)
  }

  /** Answers with Latch's own error response (or cuts the connection if a response already started). */
  fail(error: ProxyError): void {
    this.errorCode = error.code
    if (this.requestId === '') this.requestId = nextRequestId()
    if (this.clientIp === '') this.clientIp = peerAddress(this.socket)
    if (this.res.headersSent) {
      // The head went out but the response will never be complete: logged and counted as the failure
      // it is (502/504 with the cause's code), the status the client got kept in upstreamStatus.
      this.upstreamStatus = this.status
      this.status = error.status
      // A gRPC call gets its status in the trailers instead of a reset stream.
      if (!endGrpcCall(this.res, error)) this.res.destroy()
      return
    }
    this.status = error.status
    // A request whose body was not (fully) read cannot leave the connection reusable (408: cut while reading it).
    const close = this.body !== null || error.status === 400 || error.status === 408 || error.status === 413 || error.status === 431 || this.runtime.traffic.draining
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
    if (this.filtered !== undefined) this.filtered.attemptStarted(this)
    this.#connectedAt = performance.now()
  }

  /** undici: the whole request (body included) is written; from now on the endpoint owes an answer. */
  onRequestSent(): void {
    if (this.#answered || !this.#inflight) return
    this.#awaiting = true
    ;(this.endpoint as Endpoint).awaiting++
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    const endpoint = this.endpoint as Endpoint
    endpoint.responded()
    if (statusCode < 200) {
      if (statusCode === 103) this.#earlyHints(rawHeaders)
      return true
    }
    this.#answered = true
    this.#headersAt = performance.now()
    this.#endAwaiting()
    const pool = this.pool as UpstreamPool
    // Success is only known once the body is complete (onComplete); a 5xx is a failure already.
    if (statusCode >= 500) this.#judge(pool, endpoint, '5xx')
    if (this.#mayRetryStatus(statusCode)) {
      // Read and drop this answer (the connection stays reusable), then try another endpoint.
      this.#discarding = true
      return true
    }
    this.#resume = resume
    this.status = statusCode
    let headers = clientResponseHeaders(rawHeaders, this.runtime.headerRules.requestIdHeader, this.requestId)
    if (this.filtered !== undefined) headers = this.filtered.editResponse(headers)
    if (this.session !== undefined) this.#commitSession(rawHeaders, headers)
    // HTTP/2 has no Connection header and no reason phrase; its sessions get GOAWAY when draining (traffic-server.ts).
    const h2 = this.req.httpVersionMajor === 2
    // Draining: ask keep-alive clients to reconnect (to another replica) after this response.
    if (this.runtime.traffic.draining && !h2) headers.push('connection', 'close')
    try {
      this.res.writeHead(statusCode, statusText === '' || h2 ? undefined : statusText, headers)
    } catch (error) {
      // Node refuses header names/values with illegal characters: a malicious or broken upstream.
      this.#abort?.(error as Error)
      return false
    }
    this.#phase = AttemptPhase.Responding
    return true
  }

  onData(chunk: Buffer): boolean {
    if (this.#discarding) return true
    if (this.#learnHeaders !== undefined) this.#learn(chunk)
    this.bytesOut += chunk.length
    if (this.res.write(chunk)) return true
    this.res.once('drain', this.#onDrain)
    return false
  }

  onComplete(trailers: string[] | Buffer[] | null): void {
    this.#completedAt = performance.now()
    this.#judge(this.pool as UpstreamPool, this.endpoint as Endpoint, undefined)
    this.#settle()
    if (this.#discarding) return this.#retry()
    if (this.#learnHeaders !== undefined) this.#learn(undefined)
    // node:http2's compatibility response takes trailers as an object only.
    if (trailers !== null && trailers.length > 0) this.res.addTrailers(this.req.httpVersionMajor === 2 ? Object.fromEntries(trailerPairs(trailers)) : trailerPairs(trailers))
    this.res.end()
  }

  onError(error: Error): void {
    const phase = this.#phase
    this.#settle()
    if (this.#clientGone || this.socket.destroyed) {
      this.#clientGone = true
      return
    }
    if (this.#discarding) return this.#retry()
    const failure = fromUpstreamError(error, phase, this.endpoint?.id ?? '?')
    if (failure.code === 'ERR_PROXY_RESOURCES') return this.#localFailure(failure, phase)
    this.#reportFailure(failure)
    if (!this.res.headersSent && isConnectFailure(failure, phase) && this.#sessionMustStay()) return this.#failSession()
    if (!this.res.headersSent && this.#mayRetry(failure, phase)) return this.#retry()
    this.runtime.logger.warn({ reqId: this.requestId, pool: this.pool?.name, endpoint: this.endpoint?.id, code: failure.code, err: failure.message }, 'upstream request failed')
    this.fail(failure)
  }

  /**
   * Latch itself is out of a resource (descriptors, buffers, memory, ports): nothing is held against
   * the endpoint. Nothing was sent when it failed while connecting, so another endpoint may take it
   * (over an idle keep-alive connection it needs no new descriptor), except a session's own request.
   */
  #localFailure(failure: ProxyError, phase: AttemptPhase): void {
    const retry = !this.res.headersSent && this.affinityOutcome !== 'hit' && this.#mayRetry(failure, phase)
    const suppressed = LOCAL_FAILURE_LOG.admit(performance.now())
    if (suppressed !== undefined) {
      this.runtime.logger.error({ reqId: this.requestId, pool: this.pool?.name, endpoint: this.endpoint?.id, code: failure.code, err: failure.message, suppressed }, 'Latch is out of a system resource')
    }
    if (retry) this.#retry()
    else this.fail(failure)
  }

  // ---- internals ------------------------------------------------------------------------------

  #retry(): void {
    this.#discarding = false
    this.#required = undefined
    if (this.#sessionMustStay()) return this.#failSession()
    ;(this.pool as UpstreamPool).retries++
    ;(this.#tried ??= []).push(this.endpoint as Endpoint)
    if (this.session?.bindable === true && this.affinityOutcome !== undefined && this.affinityOutcome !== 'rebound') {
      // The session's endpoint failed this request: it moves, once, to wherever the retry lands.
      this.#rebinding = this.affinityOutcome === 'hit'
      if (this.#rebinding) this.affinityOutcome = 'rebound'
    }
    if (this.filtered !== undefined && this.#routeRetryFromStart()) return
    this.#attempt()
  }

  /** True when this request's session is bound to the endpoint that just failed, in an `onUnavailable: fail` pool. */
  #sessionMustStay(): boolean {
    return sessionMustStay(this.session, this.affinityOutcome, (this.pool as UpstreamPool).config.affinity.onUnavailable)
  }

  /** `onUnavailable: fail`: the session's endpoint failed before answering; never move the session silently. */
  #failSession(): void {
    this.affinityOutcome = undefined
    this.fail(sessionUnavailable(this.#routeTarget as PoolTarget))
  }

  /** Adds the session's response headers and lets learn mode see the response. */
  #commitSession(rawHeaders: Buffer[], headers: string[]): void {
    const affinity = this.affinity as SessionAffinity
    const endpoint = this.endpoint as Endpoint
    commitSession(this.#routeTarget as PoolTarget, this, endpoint, headers)
    if (affinity.learn === undefined) return
    if (affinity.wantsFirstChunk?.(this) === true) this.#learnHeaders = rawHeaders
    else affinity.learn(rawHeaders, undefined, endpoint, this)
  }

  #learn(firstChunk: Buffer | undefined): void {
    const rawHeaders = this.#learnHeaders as Buffer[]
    this.#learnHeaders = undefined
    ;this.affinity?.learn?.(rawHeaders, firstChunk, this.endpoint as Endpoint, this)
  }

  /** The retry rules (retry-rules.ts), then the retry budget, which is spent only when everything else allows. */
  #mayRetry(failure: ProxyError, phase: AttemptPhase): boolean {
    const pool = this.pool as UpstreamPool
    const routeRetry = this.filtered?.retry
    if (this.attempts > (routeRetry?.attempts ?? pool.config.retry.attempts)) return false
    // A route with `retry` also retries a `timeouts.backendRequest` that elapsed, under the same safety rules as a reset.
    if (!isRetryableFailure(failure, phase, this.method, this.body) && (routeRetry === undefined || !isRetryableTimeout(failure, phase, this.method, this.body))) return false
    return this.#endpointLeft(pool) && pool.retryBudget.tryRetry(performance.now())
  }

  #mayRetryStatus(status: number): boolean {
    const pool = this.pool as UpstreamPool
    const routeRetry = this.filtered?.retry
    const onStatus = routeRetry === undefined ? pool.config.retry.onStatus : routeRetry.codes
    if (!isRetryableStatus(status, onStatus, this.method, this.body !== null) || this.attempts > (routeRetry?.attempts ?? pool.config.retry.attempts)) return false
    // `onUnavailable: fail`: the session's endpoint answered, so it is not unavailable; its answer stands.
    if (this.#sessionMustStay()) return false
    return this.#endpointLeft(pool) && pool.retryBudget.tryRetry(performance.now())
  }

  /**
   * An untried endpoint is left; a route with `retry` (GEP-1731 retries a backend, not an endpoint)
   * may also go back to a tried one when every usable endpoint was tried.
   */
  #endpointLeft(pool: UpstreamPool): boolean {
    if (untriedEndpointLeft(pool, this.endpoint, this.#tried)) return true
    return this.filtered?.retry !== undefined && pool.usableEndpoints.length > 0
  }

  // ---- Gateway API route timeouts and retry (filters/filtered-request.ts) --------------------

  /**
   * Before a route retry: every usable endpoint tried means starting the round again; waits the
   * route's backoff when it has one (true: the retry comes from retryNow).
   */
  #routeRetryFromStart(): boolean {
    const filtered = this.filtered as FilteredRequest
    if (filtered.retry === undefined) return false
    if (!untriedEndpointLeft(this.pool as UpstreamPool, undefined, this.#tried)) this.#tried = undefined
    return filtered.backoff(this)
  }

  retryNow(): void {
    if (!this.#clientGone) this.#attempt()
  }

  backendTimedOut(): void {
    if (!this.#inflight) return
    this.#abort?.(new ProxyError('ERR_UPSTREAM_TIMEOUT', `${this.endpoint?.id ?? '?'} did not complete its response within the route's timeouts.backendRequest`))
  }

  routeTimedOut(): void {
    if (this.#clientGone || this.res.writableEnded) return
    // Nobody waits for upstream work any more: every later callback stops at #clientGone.
    this.#clientGone = true
    if (this.#queued) {
      this.#queued = false
      ;(this.pool as UpstreamPool).queue.remove(this)
    }
    this.fail(new ProxyError('ERR_ROUTE_TIMEOUT', `no complete response within the route's timeouts.request (${this.routeDescription ?? ''})`))
    if (this.#inflight) this.#abort?.(CLIENT_ABORT)
  }

  /** Passive health: a failure of the endpoint's making (never a client's or Latch's own limit). */
  #reportFailure(failure: ProxyError): void {
    const kind = passiveFailureKind(failure)
    const endpoint = this.endpoint as Endpoint
    endpoint.errors[failure.code] = (endpoint.errors[failure.code] ?? 0) + 1
    if (kind !== undefined) this.#judge(this.pool as UpstreamPool, endpoint, kind)
  }

  /** Gives passive health this attempt's verdict, once: a failure of `kind`, or (undefined) a success. */
  #judge(pool: UpstreamPool, endpoint: Endpoint, kind: PassiveFailureKind | undefined): void {
    if (this.#judged) return
    this.#judged = true
    if (kind === undefined) pool.outliers.recordSuccess(endpoint)
    else pool.outliers.recordFailure(endpoint, kind)
  }

  #endAwaiting(): void {
    if (!this.#awaiting) return
    this.#awaiting = false
    ;(this.endpoint as Endpoint).awaiting--
  }

  /** Ends the accounting of the current attempt (exactly once per attempt) and frees its slot. */
  #settle(): void {
    if (!this.#inflight) return
    this.#inflight = false
    if (this.filtered !== undefined) this.filtered.attemptEnded()
    this.#endAwaiting()
    const endpoint = this.endpoint as Endpoint
    endpoint.inflight--
    ;(this.pool as UpstreamPool).slotFreed(endpoint)
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
    // HTTP/2: a stream reset by the client still emits 'finish' and reports writableFinished, but
    // writableEnded stays false unless Latch ended the response (for HTTP/1 it adds nothing).
    if (!this.res.writableFinished || !this.res.writableEnded) {
      // The client went away before the response was complete: stop the upstream work, blame nobody.
      this.#clientGone = true
      if (this.#queued) (this.pool as UpstreamPool).queue.remove(this)
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
    if (this.filtered !== undefined) this.filtered.finished()
    this.runtime.traffic.inflight--
    if (this.runtime.accessLog.enabled) this.runtime.accessLog.write(this)
    this.runtime.requests?.requestFinished(this)
    this.runtime.spans?.record(this)
  }
}

/** Milliseconds (to the microsecond) from `from` to `to`; undefined when either did not happen. */
function sinceDispatch(from: number, to: number): number | undefined {
  return from === 0 || to === 0 ? undefined : Math.round((to - from) * 1000) / 1000
}
