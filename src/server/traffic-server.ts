/**
 * @module The client-facing HTTP server with safe defaults (the node:http options below; defaults follow nginx, HAProxy and Envoy, see README "Configuration").
 *
 * The parser stays strict (never `insecureHTTPParser`); header and request timeouts are checked
 * every second instead of Node's 30 s; the header count is capped one above the limit so an overflow
 * is seen and answered with 431 rather than silently truncated.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createSecureServer, createServer as createH2cServer, type Http2SecureServer, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session, type ServerHttp2Stream } from 'node:http2'
import { createServer as createHttpsServer } from 'node:https'
import type { Server as NetServer, Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { ServerConfig } from '../config/schema.js'
import type { ListenerCertificates } from '../tls/listener-certificates.js'
import type { Logger } from '../observability/logger.js'
import { rawErrorResponse } from '../proxying/error-response.js'
import { handleRequest, type RuntimeHolder } from '../proxying/handler.js'

/** Callbacks the server needs beyond plain requests. */
export interface TrafficServerHooks {
  readonly onUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void
}

const CLIENT_ERRORS: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'ERR_HEADERS_TOO_LARGE'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'ERR_REQUEST_TIMEOUT'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Content Too Large', 'ERR_BODY_TOO_LARGE'],
}

/** How a listener speaks to clients. */
export type ListenerProtocol =
  | { readonly kind: 'http' }
  /** TLS; `http2` offers h2 by ALPN beside HTTP/1.1. */
  | { readonly kind: 'tls'; readonly certificates: ListenerCertificates; readonly http2: boolean }
  /** Cleartext HTTP/2 with prior knowledge only. */
  | { readonly kind: 'h2c' }

/** Any traffic server: node:http, node:https, or a node:http2 server (HTTP/1.1 fallback included). */
export type TrafficServer = NetServer

/** Most concurrent streams per HTTP/2 connection (Envoy's documented edge-proxy best practice: http2_protocol_options.max_concurrent_streams 100). */
const H2_MAX_CONCURRENT_STREAMS = 100
/** Pseudo-headers an HTTP/2 request carries besides its regular headers (:method, :scheme, :authority, :path). */
const H2_PSEUDO_HEADERS = 4

const SERVER_OPTIONS = (config: ServerConfig) => ({
  insecureHTTPParser: false,
  // Checked by prepareRequestHeaders instead, so the 400 is Latch's own (JSON, code, request id).
  requireHostHeader: false,
  joinDuplicateHeaders: false,
  maxHeaderSize: config.maxHeaderSize,
  headersTimeout: config.headersTimeout,
  requestTimeout: config.requestTimeout,
  connectionsCheckingInterval: 1000,
  noDelay: true,
})

/** Creates (does not bind) a traffic server that serves whatever runtime `holder` holds. */
export function createTrafficServer(holder: RuntimeHolder, config: ServerConfig, logger: Logger, hooks: TrafficServerHooks, protocol: ListenerProtocol = { kind: 'http' }): TrafficServer {
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => handleRequest(req, res, holder.runtime, false)
  if (protocol.kind === 'http') return withHttp1Hooks(createServer(SERVER_OPTIONS(config), onRequest), holder, config, logger, hooks)
  if (protocol.kind === 'tls' && !protocol.http2) {
    const server = createHttpsServer({ ...SERVER_OPTIONS(config), ...protocol.certificates.serverOptions() }, onRequest)
    protocol.certificates.attach(server)
    return withHttp1Hooks(server, holder, config, logger, hooks)
  }
  const http2Options = {
    noDelay: true,
    // The HTTP/2 equivalents of maxHeaderSize and maxHeadersCount (+1, so an overflow is answered, not truncated).
    maxHeaderListPairs: config.maxHeadersCount + 1 + H2_PSEUDO_HEADERS,
    settings: { maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS, maxHeaderListSize: config.maxHeaderSize },
  }
  if (protocol.kind === 'h2c') return withHttp2Hooks(createH2cServer(http2Options), holder, config, logger)
  // allowHTTP1: clients that do not offer h2 by ALPN get HTTP/1.1 on the same port, through Node's
  // HTTP/1 connection handling (same events, and the timeouts applyServerLimits sets on the server).
  const server = createSecureServer({ ...http2Options, ...protocol.certificates.serverOptions(), allowHTTP1: true })
  protocol.certificates.attach(server)
  // Node reads these for HTTP/1.1 connections of an HTTP/2 server, from the server object.
  Object.assign(server, { maxHeaderSize: config.maxHeaderSize, insecureHTTPParser: false, connectionsCheckingInterval: 1000 })
  withHttp1Hooks(server as unknown as Server, holder, config, logger, hooks)
  return withHttp2Hooks(server, holder, config, logger)
}

/** The HTTP/1.1 events: requests, 100-continue, upgrades, CONNECT refusal, parser errors. */
function withHttp1Hooks<T extends Server>(server: T, holder: RuntimeHolder, config: ServerConfig, logger: Logger, hooks: TrafficServerHooks): T {
  applyServerLimits(server, config)
  if (server.listenerCount('request') === 0) server.on('request', (req, res) => handleRequest(req, res, holder.runtime, false))
  server.on('checkContinue', (req, res) => handleRequest(req, res, holder.runtime, true))
  server.on('upgrade', hooks.onUpgrade)
  server.on('connect', (req: IncomingMessage, socket: Socket | Http2ServerResponse) => {
    if (req.httpVersionMajor === 2) return refuseH2Connect(socket as Http2ServerResponse)
    const raw = socket as Socket
    raw.on('error', () => raw.destroy())
    raw.end(rawErrorResponse(405, 'Method Not Allowed', 'ERR_METHOD_NOT_ALLOWED', 'CONNECT is not supported by a reverse proxy', undefined, holder.runtime.headerRules.requestIdHeader))
  })
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, logger, holder.runtime.headerRules.requestIdHeader))
  return server
}

/**
 * HTTP/2 sessions: requests go through the same handler (Node's compatibility API gives them the
 * IncomingMessage/ServerResponse shape), sessions are tracked for shutdown, and while Latch drains
 * every new stream makes its session send GOAWAY once that stream is done: HTTP/2's equivalent of
 * `Connection: close`, so clients move to another replica without losing a request.
 */
function withHttp2Hooks<T extends Http2Server | Http2SecureServer>(server: T, holder: RuntimeHolder, config: ServerConfig, logger: Logger): T {
  const handle = (req: Http2ServerRequest, res: Http2ServerResponse, expectsContinue: boolean): void =>
    // The compatibility API's request and response are used through the node:http surface they mirror.
    handleRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse, holder.runtime, expectsContinue)
  if (server.listenerCount('request') === 0) server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => handle(req, res, false))
  if (server.listenerCount('checkContinue') === 0) server.on('checkContinue', (req: Http2ServerRequest, res: Http2ServerResponse) => handle(req, res, true))
  if (server.listenerCount('connect') === 0) server.on('connect', (_req: Http2ServerRequest, res: Http2ServerResponse) => refuseH2Connect(res))
  const tracked = trackConnections(server)
  server.on('session', (session: Http2Session) => {
    tracked.sessions.add(session)
    session.once('close', () => tracked.sessions.delete(session))
    session.on('error', (error: NodeJS.ErrnoException) => logger.debug({ code: error.code, err: error.message }, 'HTTP/2 session error'))
  })
  server.on('stream', (stream: ServerHttp2Stream) => {
    if (holder.runtime.traffic.draining && !stream.session?.closed) stream.session?.close()
  })
  applyServerLimits(server, config)
  return server
}

function refuseH2Connect(res: Http2ServerResponse): void {
  const body = `${JSON.stringify({ error: 'ERR_METHOD_NOT_ALLOWED', status: 405, message: 'CONNECT is not supported by a reverse proxy' })}\n`
  res.writeHead(405, { 'content-type': 'application/json; charset=utf-8', 'x-latch-error': 'ERR_METHOD_NOT_ALLOWED' })
  res.end(body)
}

/** Open HTTP/2 sessions and HTTP/1.1-over-TLS sockets of an HTTP/2 server, for graceful shutdown. */
interface TrackedConnections {
  readonly sessions: Set<Http2Session>
  readonly http1: Set<TLSSocket>
}

const TRACKED = Symbol('latch.trackedConnections')

function trackConnections(server: Http2Server | Http2SecureServer): TrackedConnections {
  const tracked: TrackedConnections = { sessions: new Set(), http1: new Set() }
  ;(server as unknown as { [TRACKED]: TrackedConnections })[TRACKED] = tracked
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol === 'h2') return
    tracked.http1.add(socket)
    socket.once('close', () => tracked.http1.delete(socket))
  })
  return tracked
}

function trackedOf(server: NetServer): TrackedConnections | undefined {
  return (server as unknown as { [TRACKED]?: TrackedConnections })[TRACKED]
}

/** Closes connections with nothing in flight (drain end): idle keep-alive sockets; HTTP/2 sessions get GOAWAY. */
export function closeIdleConnections(server: TrafficServer): void {
  const tracked = trackedOf(server)
  if (tracked === undefined) return (server as Server).closeIdleConnections()
  for (const session of tracked.sessions) if (!session.closed) session.close()
  for (const socket of tracked.http1) {
    // Node's HTTP/1 server sets _httpMessage while a response is being written on the socket.
    if ((socket as { _httpMessage?: unknown })._httpMessage == null) socket.destroy()
  }
}

/** Closes every client connection at once (drain deadline). */
export function closeAllConnections(server: TrafficServer): void {
  const tracked = trackedOf(server)
  if (tracked === undefined) return (server as Server).closeAllConnections()
  for (const session of tracked.sessions) session.destroy()
  for (const socket of tracked.http1) socket.destroy()
}

/**
 * Sets the limits that can change on a live server (everything but maxHeaderSize). An HTTP/2 server
 * reads the HTTP/1 ones from the same properties for its HTTP/1.1 connections; its sessions get the
 * idle timeout (setTimeout) and maxConnections.
 */
export function applyServerLimits(trafficServer: TrafficServer, config: ServerConfig): void {
  // Every kind of traffic server has these properties (node:http2 servers for their HTTP/1.1 side).
  const server = trafficServer as Server
  server.headersTimeout = config.headersTimeout
  server.requestTimeout = config.requestTimeout
  server.keepAliveTimeout = config.keepAliveTimeout
  server.maxHeadersCount = config.maxHeadersCount + 1
  server.maxRequestsPerSocket = config.maxRequestsPerSocket
  server.maxConnections = config.maxConnections
  server.setTimeout(config.idleTimeout)
}

/** Answers a request Node's parser refused (malformed, too large, too slow) and closes the socket. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket, logger: Logger, requestIdHeader: string): void {
  const code = error.code ?? 'UNKNOWN'
  const inResponse = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true
  if (code === 'ECONNRESET' || !socket.writable || inResponse) {
    socket.destroy()
    return
  }
  const [status, reason, latchCode] = CLIENT_ERRORS[code] ?? [400, 'Bad Request', 'ERR_BAD_REQUEST']
  logger.debug({ code, latchCode, peer: socket.remoteAddress }, 'refused malformed request')
  socket.end(rawErrorResponse(status, reason, latchCode, `${reason.toLowerCase()} (${code})`, undefined, requestIdHeader))
}
