/**
 * @module The client-facing HTTP server with safe defaults (reference/reliability.md §6.1).
 *
 * The parser stays strict (never `insecureHTTPParser`); header and request timeouts are checked
 * every second instead of Node's 30 s; the header count is capped one above the limit so an overflow
 * is seen and answered with 431 rather than silently truncated.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'
import type { ServerConfig } from '../config/schema.js'
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

/** Creates (does not bind) a traffic server that serves whatever runtime `holder` holds. */
export function createTrafficServer(holder: RuntimeHolder, config: ServerConfig, logger: Logger, hooks: TrafficServerHooks): Server {
  const server = createServer(
    {
      insecureHTTPParser: false,
      // Checked by prepareRequestHeaders instead, so the 400 is Latch's own (JSON, code, request id).
      requireHostHeader: false,
      joinDuplicateHeaders: false,
      maxHeaderSize: config.maxHeaderSize,
      headersTimeout: config.headersTimeout,
      requestTimeout: config.requestTimeout,
      connectionsCheckingInterval: 1000,
      noDelay: true,
    },
    (req, res) => handleRequest(req, res, holder.runtime, false),
  )
  applyServerLimits(server, config)
  server.on('checkContinue', (req, res) => handleRequest(req, res, holder.runtime, true))
  server.on('upgrade', hooks.onUpgrade)
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => socket.destroy())
    socket.end(rawErrorResponse(405, 'Method Not Allowed', 'ERR_METHOD_NOT_ALLOWED', 'CONNECT is not supported by a reverse proxy', undefined, holder.runtime.headerRules.requestIdHeader))
  })
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket, logger, holder.runtime.headerRules.requestIdHeader))
  return server
}

/** Sets the limits that can change on a live server (everything but maxHeaderSize). */
export function applyServerLimits(server: Server, config: ServerConfig): void {
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
