/**
 * @module Requests to an `h2`/`h2c` endpoint over Node's node:http2 client, driving the same undici
 * dispatch handler (the Exchange) as HTTP/1.1 endpoints do, so retries, health and affinity are shared.
 *
 * Why node:http2 and not undici's `allowH2`: undici does not multiplex non-idempotent requests (every
 * concurrent POST, so every gRPC call, takes its own connection) nor streamed bodies, and measured at
 * about half the calls/s with 2.5× the client CPU per call (bench/h2/client-choice.mjs, bench/RESULTS.md).
 *
 * One HTTP/2 session per endpoint carries every call; a new one is opened when it closes or receives
 * GOAWAY (calls already on the old one finish there). The session is closed after `keepAlive` without
 * open streams. Errors are given the codes upstream-errors.ts knows, so they are classified exactly
 * like undici's: nothing reached the endpoint before `onConnect`, a stream reset afterwards is a reset.
 *
 * Per call the work is kept to what node:http2 itself needs (bench/RESULTS.md, issue 16 §2): header
 * and body timeouts are one sweep per dispatcher, not a timer per stream (node refreshes a stream's
 * timer on every frame); events are plain listeners, not `once` wrappers; a streamed body is forwarded
 * by hand rather than `pipe`d (pipe adds and removes seven listeners per call).
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders, type SecureClientSessionOptions } from 'node:http2'
import { connect as netConnect } from 'node:net'
import type { Readable } from 'node:stream'
import { connect as tlsConnect } from 'node:tls'
import type { Dispatcher } from 'undici'
import { ProxyError } from '../errors/proxy-error.js'
import { grpcTimeoutMs, isGrpcContentType, splitTrailersOnly } from '../grpc/grpc-wire.js'

/** What an endpoint sends requests through: undici's Pool (http1) or an H2Dispatcher. */
export interface UpstreamDispatcher {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean
  close(): Promise<void>
  destroy(): Promise<void>
  readonly destroyed: boolean
  /** True once `close` or `destroy` was called. */
  readonly closed: boolean
}

/** How an H2Dispatcher connects and times calls (from the pool config). */
export interface H2DispatcherOptions {
  readonly connectTimeout: number
  readonly headersTimeout: number
  readonly bodyTimeout: number
  readonly keepAlive: number
  /** TLS options for `h2` (ALPN is set here); undefined for `h2c`. */
  readonly tls: SecureClientSessionOptions | undefined
}

/** The undici handler methods the Exchange implements (all are called). */
type Handler = Required<Pick<Dispatcher.DispatchHandler, 'onConnect' | 'onHeaders' | 'onData' | 'onComplete' | 'onError'>> & {
  /** Not in undici's types, but undici calls it once the whole request is written (the Exchange counts on it). */
  onRequestSent?(): void
}

/** An error with a code upstream-errors.ts classifies. */
function codedError(code: string, message: string, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code })
}

/** node:http2 reports resets and dead sessions with its own codes; upstream-errors.ts knows undici's. */
function streamFailure(error: unknown): Error {
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && code.startsWith('ERR_HTTP2_')) return codedError('UND_ERR_SOCKET', `HTTP/2: ${(error as Error).message}`, error)
  return error as Error
}

/** One session and how many streams it carries. */
interface Session {
  readonly session: ClientHttp2Session
  active: number
  usable: boolean
  /** Calls waiting for the session to connect (undefined once it did). */
  pending: H2Call[] | undefined
  failure?: Error
}

/** How often the calls' header and body timeouts are checked (they fire up to this much late). */
const TIMEOUT_SWEEP_MS = 1000

/**
 * Header and body timeouts of every call of a dispatcher, checked by one timer while calls are open.
 * A call notes the time of its last event (`lastActivity`), which is cheaper than re-arming a timer.
 */
class CallTimeouts {
  readonly headersTimeout: number
  readonly bodyTimeout: number
  readonly #calls = new Set<H2Call>()
  #timer: NodeJS.Timeout | undefined

  constructor(headersTimeout: number, bodyTimeout: number) {
    this.headersTimeout = headersTimeout
    this.bodyTimeout = bodyTimeout
  }

  add(call: H2Call): void {
    this.#calls.add(call)
    if (this.#timer === undefined) {
      this.#timer = setInterval(this.#sweep, TIMEOUT_SWEEP_MS)
      this.#timer.unref()
    }
  }

  delete(call: H2Call): void {
    this.#calls.delete(call)
    if (this.#calls.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }

  readonly #sweep = (): void => {
    const now = performance.now()
    for (const call of this.#calls) call.checkTimeout(now)
  }
}

export class H2Dispatcher implements UpstreamDispatcher {
  readonly #origin: string
  readonly #url: URL
  readonly #options: H2DispatcherOptions
  readonly #timeouts: CallTimeouts
  #current: Session | undefined
  readonly #sessions = new Set<Session>()
  #closed = false
  #destroyed = false

  constructor(url: URL, options: H2DispatcherOptions) {
    this.#origin = url.origin
    this.#url = url
    this.#options = options
    this.#timeouts = new CallTimeouts(options.headersTimeout, options.bodyTimeout)
  }

  get destroyed(): boolean {
    return this.#destroyed
  }

  get closed(): boolean {
    return this.#closed
  }

  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const call = handler as Handler
    if (this.#closed) {
      call.onError(codedError('UND_ERR_CLOSED', 'the endpoint\'s HTTP/2 client is closed'))
      return false
    }
    const entry = this.#session()
    const h2call = new H2Call(entry, options, call, this.#timeouts)
    // Calls made while the session connects wait in one list (not a listener pair each).
    if (entry.pending !== undefined) entry.pending.push(h2call)
    else h2call.start()
    return true
  }

  /** Closes the sessions once their streams are done. */
  async close(): Promise<void> {
    this.#closed = true
    await Promise.all([...this.#sessions].map((entry) => new Promise<void>((resolve) => (entry.session.closed ? resolve() : entry.session.close(resolve)))))
  }

  /** Destroys every session at once. */
  async destroy(): Promise<void> {
    this.#closed = true
    this.#destroyed = true
    for (const entry of this.#sessions) entry.session.destroy()
  }

  #session(): Session {
    const current = this.#current
    if (current !== undefined && current.usable) return current
    const tls = this.#options.tls
    const { hostname, port } = this.#url
    const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
    // Own sockets, for noDelay: small frames (gRPC messages, trailers) must not wait for Nagle's algorithm.
    const createConnection = tls === undefined
      ? () => netConnect({ host, port: Number(port || 80), noDelay: true })
      : () => tlsConnect({ ...tls, host, port: Number(port || 443), ALPNProtocols: ['h2'] }).setNoDelay(true)
    const session = connect(this.#origin, { settings: { enablePush: false }, createConnection })
    const entry: Session = { session, active: 0, usable: true, pending: [] }
    this.#current = entry
    this.#sessions.add(entry)
    const retire = (): void => {
      entry.usable = false
      if (this.#current === entry) this.#current = undefined
    }
    const timer = setTimeout(() => session.destroy(codedError('UND_ERR_CONNECT_TIMEOUT', `connect timed out after ${this.#options.connectTimeout} ms`)), this.#options.connectTimeout)
    timer.unref()
    session.once('connect', () => {
      clearTimeout(timer)
      const pending = entry.pending ?? []
      entry.pending = undefined
      for (const call of pending) call.start()
    })
    session.on('error', (error: Error) => {
      entry.failure = error
      retire()
    })
    session.once('goaway', retire)
    session.once('close', () => {
      clearTimeout(timer)
      retire()
      this.#sessions.delete(entry)
      const pending = entry.pending ?? []
      entry.pending = undefined
      for (const call of pending) call.refuse(entry.failure ?? codedError('UND_ERR_CLOSED', 'HTTP/2 session closed before it connected'))
    })
    // Idle: no stream for keepAlive. Streams of a quiet call are not idle (`active` counts them).
    session.setTimeout(this.#options.keepAlive, () => {
      if (entry.active === 0) {
        retire()
        session.close()
      }
    })
    return entry
  }
}

/** One request on a session: request headers and body out, handler callbacks in. */
class H2Call {
  readonly #entry: Session
  readonly #options: Dispatcher.DispatchOptions
  readonly #handler: Handler
  readonly #timeouts: CallTimeouts
  #stream: ClientHttp2Stream | undefined
  /** performance.now() of the call's last event, for CallTimeouts. */
  #lastActivity = 0
  #done = false
  #responded = false
  #trailers: string[] | null = null
  #deadline: NodeJS.Timeout | undefined

  constructor(entry: Session, options: Dispatcher.DispatchOptions, handler: Handler, timeouts: CallTimeouts) {
    this.#entry = entry
    this.#options = options
    this.#handler = handler
    this.#timeouts = timeouts
  }

  start(): void {
    const { headers, deadlineMs } = this.#requestHeaders()
    this.#handler.onConnect(this.#abort)
    if (this.#done) return
    const body = this.#options.body as Buffer | Readable | null | undefined
    let stream: ClientHttp2Stream
    try {
      stream = this.#entry.session.request(headers, { endStream: body === null || body === undefined })
    } catch (error) {
      return this.#fail(streamFailure(error))
    }
    this.#stream = stream
    this.#entry.active++
    this.#lastActivity = performance.now()
    this.#timeouts.add(this)
    if (deadlineMs !== undefined) {
      this.#deadline = setTimeout(this.#abort, deadlineMs, new ProxyError('ERR_DEADLINE_EXCEEDED', `the call's grpc-timeout (${deadlineMs} ms) passed before the endpoint finished it`))
      this.#deadline.unref()
    }
    // Each of these fires at most once per stream, so `on` (no once-wrapper per call) is enough.
    stream.on('response', this.#onResponse)
    stream.on('data', this.#onData)
    stream.on('trailers', this.#onTrailers)
    stream.on('end', this.#onEnd)
    stream.on('error', this.#onError)
    stream.on('close', this.#onClose)
    if (body === null || body === undefined) {
      this.#handler.onRequestSent?.()
    } else if (Buffer.isBuffer(body)) {
      stream.end(body, this.#requestSent)
    } else {
      this.#forwardBody(body)
    }
  }

  /** A session that closed before it connected: the call never started. */
  refuse(error: Error): void {
    this.#done = true
    this.#handler.onError(error)
  }

  /** Called by CallTimeouts: aborts the call when it waited too long for its head or the next data. */
  checkTimeout(now: number): void {
    const limit = this.#responded ? this.#timeouts.bodyTimeout : this.#timeouts.headersTimeout
    if (limit > 0 && now - this.#lastActivity >= limit) this.#timedOut()
  }

  /** Streams the request body onto the stream with backpressure (what `pipe` does, with fewer listeners). */
  #forwardBody(body: Readable): void {
    // A body already read to its end (nothing left to come) only needs the stream ended.
    if (body.readableEnded) return this.#onBodyEnd()
    body.on('data', this.#onBodyData)
    body.on('end', this.#onBodyEnd)
    body.on('error', this.#abort)
  }

  readonly #onBodyData = (chunk: Buffer): void => {
    const stream = this.#stream as ClientHttp2Stream
    if (this.#done || stream.destroyed) return
    if (!stream.write(chunk)) {
      ;(this.#options.body as Readable).pause()
      stream.once('drain', this.#onBodyDrain)
    }
  }

  readonly #onBodyDrain = (): void => {
    if (!this.#done) (this.#options.body as Readable).resume()
  }

  readonly #onBodyEnd = (): void => {
    const stream = this.#stream as ClientHttp2Stream
    if (!this.#done && !stream.destroyed) stream.end(this.#requestSent)
  }

  readonly #requestSent = (): void => {
    this.#handler.onRequestSent?.()
  }

  readonly #onError = (error: Error): void => {
    this.#fail(streamFailure(error))
  }

  /** undici's header list (flat name/value strings) as an HTTP/2 header object. */
  #requestHeaders(): { headers: OutgoingHttpHeaders; deadlineMs: number | undefined } {
    const raw = this.#options.headers as string[]
    const headers: OutgoingHttpHeaders = { ':method': this.#options.method, ':path': this.#options.path }
    let deadlineMs: number | undefined
    for (let i = 0; i < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase()
      const value = raw[i + 1] as string
      if (name === 'host') {
        headers[':authority'] = value
        continue
      }
      if (name === 'grpc-timeout') deadlineMs = grpcTimeoutMs(value)
      else if (name === 'content-type' && isGrpcContentType(value)) headers.te = 'trailers' // required by gRPC; TE is hop-by-hop, so the client's was dropped
      const existing = headers[name]
      if (existing === undefined) headers[name] = value
      else if (name === 'cookie') headers[name] = `${existing as string}; ${value}`
      else headers[name] = Array.isArray(existing) ? [...existing, value] : [existing as string, value]
    }
    return { headers, deadlineMs }
  }

  readonly #onResponse = (headers: IncomingHttpHeaders, flags: number): void => {
    if (this.#done) return
    this.#responded = true
    this.#lastActivity = performance.now()
    const status = Number(headers[':status'])
    const raw = rawHeaders(headers)
    // A gRPC Trailers-Only response carries its status in the head. Node answers the client with the
    // head first and the end of the stream after, so it is relayed as an empty head and trailers.
    const trailersOnly = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0 ? splitTrailersOnly(raw) : undefined
    if (trailersOnly !== undefined) this.#trailers = trailersOnly.trailers
    this.#handler.onHeaders(status, trailersOnly?.head ?? raw, this.#resume, '')
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#done || !this.#responded) return
    this.#lastActivity = performance.now()
    if (!this.#handler.onData(chunk)) this.#stream?.pause()
  }

  readonly #resume = (): void => {
    this.#stream?.resume()
  }

  readonly #onTrailers = (trailers: IncomingHttpHeaders): void => {
    const flat: string[] = []
    for (const name in trailers) {
      const value = trailers[name]
      if (value === undefined) continue
      if (Array.isArray(value)) for (const one of value) flat.push(name, one)
      else flat.push(name, String(value))
    }
    this.#trailers = flat
  }

  readonly #onEnd = (): void => {
    if (this.#done) return
    if (!this.#responded) return this.#fail(codedError('UND_ERR_SOCKET', 'HTTP/2: stream ended before a response'))
    this.#finish()
    this.#handler.onComplete(this.#trailers)
  }

  readonly #onClose = (): void => {
    this.#entry.active--
    this.#timeouts.delete(this)
    if (this.#done) return
    const code = this.#stream?.rstCode ?? 0
    this.#fail(codedError('UND_ERR_SOCKET', code === constants.NGHTTP2_NO_ERROR ? 'HTTP/2: stream closed before the response was complete' : `HTTP/2: stream reset (code ${code})`))
  }

  readonly #timedOut = (): void => {
    this.#abort(this.#responded ? codedError('UND_ERR_BODY_TIMEOUT', `no response data for ${this.#timeouts.bodyTimeout} ms`) : codedError('UND_ERR_HEADERS_TIMEOUT', `no response headers within ${this.#timeouts.headersTimeout} ms`))
  }

  /** The handler's (or a timer's) abort: cancels the stream (RST_STREAM CANCEL) and reports `error`. */
  readonly #abort = (error?: Error): void => {
    if (this.#done) return
    this.#fail(error ?? codedError('UND_ERR_ABORTED', 'request aborted'))
  }

  #fail(error: Error): void {
    if (this.#done) return
    this.#finish()
    const stream = this.#stream
    if (stream !== undefined && !stream.closed) stream.close(constants.NGHTTP2_CANCEL)
    this.#handler.onError(error)
  }

  #finish(): void {
    this.#done = true
    clearTimeout(this.#deadline)
    const body = this.#options.body
    if (body !== null && body !== undefined && !Buffer.isBuffer(body)) {
      const readable = body as Readable
      readable.off('data', this.#onBodyData)
      readable.off('end', this.#onBodyEnd)
      readable.off('error', this.#abort)
    }
  }
}

/** An HTTP/2 header object as undici's raw header list (Buffers, pseudo-headers left out). */
function rawHeaders(headers: IncomingHttpHeaders): Buffer[] {
  const raw: Buffer[] = []
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || name.charCodeAt(0) === 58) continue
    const key = Buffer.from(name, 'latin1')
    if (Array.isArray(value)) for (const one of value) raw.push(key, Buffer.from(one, 'latin1'))
    else raw.push(key, Buffer.from(String(value), 'latin1'))
  }
  return raw
}
