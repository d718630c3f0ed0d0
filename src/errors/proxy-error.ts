/**
 * @module The one table of errors a client or operator can meet while a request is proxied.
 *
 * Every code is stable: tests, logs, metrics and the README match on it. The README's error table
 * is checked against ERRORS by a test, so the two cannot drift.
 */

/** Where a failure came from; decides the log level and whether an endpoint is blamed. */
export type ErrorSource = 'client' | 'upstream' | 'proxy'

interface ErrorSpec {
  readonly status: number
  readonly source: ErrorSource
  readonly summary: string
}

/** Every proxy error code with its HTTP status, source and a one-line summary (README table). */
export const ERRORS = {
  ERR_BAD_REQUEST: { status: 400, source: 'client', summary: 'malformed or ambiguous request (framing, duplicate Host, bad Transfer-Encoding, absolute-form mismatch)' },
  ERR_BAD_PATH: { status: 400, source: 'client', summary: 'request path is ambiguous: encoded "/" or "\\", NUL, control characters or bad percent-encoding' },
  ERR_NO_ROUTE: { status: 404, source: 'client', summary: 'no Ingress rule matches the host and path, and there is no defaultBackend' },
  ERR_METHOD_NOT_ALLOWED: { status: 405, source: 'client', summary: 'CONNECT and other methods a reverse proxy does not serve' },
  ERR_REQUEST_TIMEOUT: { status: 408, source: 'client', summary: 'the client did not send its headers or body in time' },
  ERR_BODY_TIMEOUT: { status: 408, source: 'client', summary: 'the client did not send the buffered part of its body (server.requestBody.bufferSize) within server.requestBody.bufferTimeout; no endpoint was involved' },
  ERR_BODY_TOO_SLOW: { status: 408, source: 'client', summary: 'a streamed request body fell below server.requestBody.minRate; the upstream request was aborted (the connection is cut when the response had started)' },
  ERR_BODY_TOO_LARGE: { status: 413, source: 'client', summary: 'request body exceeds maxBodySize (checked on Content-Length and while streaming)' },
  ERR_HEADERS_TOO_LARGE: { status: 431, source: 'client', summary: 'request headers exceed maxHeaderSize or maxHeadersCount' },
  ERR_CLIENT_ABORTED: { status: 499, source: 'client', summary: 'the client closed the connection before the response was complete (logged only; the endpoint is not blamed)' },
  ERR_INTERNAL: { status: 500, source: 'proxy', summary: 'a bug in Latch; the log line has the stack' },
  ERR_NO_BACKEND: { status: 500, source: 'proxy', summary: 'the matched route rule has no backend to send to: every backend has weight 0 and the request has no session bound to one of them, or an HTTPRoute rule has no backendRefs and no RequestRedirect (Gateway API answers 500 in both cases)' },
  ERR_UPSTREAM_CONNECT: { status: 502, source: 'upstream', summary: 'could not connect to the endpoint (refused, reset, unreachable, DNS); retried on another endpoint when one is left' },
  ERR_UPSTREAM_TLS: { status: 502, source: 'upstream', summary: 'the TLS handshake with an https endpoint failed: certificate not trusted (set the pool\'s tls.ca), name mismatch (tls.servername), expired, or no common TLS version; retried on another endpoint when one is left' },
  ERR_UPSTREAM_RESET: { status: 502, source: 'upstream', summary: 'the endpoint closed or reset the connection after the request was sent' },
  ERR_UPSTREAM_RESPONSE: { status: 502, source: 'upstream', summary: 'the endpoint sent an invalid or truncated response' },
  ERR_NO_ENDPOINT: { status: 503, source: 'upstream', summary: 'the pool has no available endpoint (all down, draining or in maintenance); a failed attempt with no other endpoint left answers its own error instead' },
  ERR_QUEUE_FULL: { status: 503, source: 'upstream', summary: 'every endpoint is at its concurrency limit and the pending queue is full (Retry-After set)' },
  ERR_QUEUE_TIMEOUT: { status: 503, source: 'upstream', summary: 'the request waited longer than queueTimeout for a free endpoint slot (Retry-After set)' },
  ERR_SESSION_UNAVAILABLE: { status: 503, source: 'upstream', summary: 'the session\'s bound endpoint is unavailable and the pool is set to onUnavailable: fail (Retry-After set)' },
  ERR_STORE_UNAVAILABLE: { status: 503, source: 'proxy', summary: 'the affinity store is unreachable and the store is set to failClosed (Retry-After set)' },
  ERR_PROXY_RESOURCES: { status: 503, source: 'proxy', summary: 'Latch itself ran out of a system resource (file descriptors EMFILE/ENFILE, socket buffers ENOBUFS, memory ENOMEM, local ports EADDRNOTAVAIL); never counted against the endpoint, logged at most once a second (Retry-After set)' },
  ERR_SHUTTING_DOWN: { status: 503, source: 'proxy', summary: 'Latch reached its drain deadline while the request still waited for an endpoint slot; it was never sent upstream' },
  ERR_DEADLINE_EXCEEDED: { status: 504, source: 'upstream', summary: 'a gRPC call\'s `grpc-timeout` passed before its endpoint finished it; gRPC clients get DEADLINE_EXCEEDED' },
  ERR_UPSTREAM_TIMEOUT: { status: 504, source: 'upstream', summary: 'the endpoint did not connect, answer or send body data within its timeout' },
  ERR_ROUTE_TIMEOUT: { status: 504, source: 'upstream', summary: 'the HTTPRoute rule\'s timeouts.request elapsed before the response was complete (retries included); the attempt in flight was stopped, and a response already started is cut' },
} as const satisfies Record<string, ErrorSpec>

/** A stable error code, e.g. `ERR_NO_ROUTE`. */
export type ErrorCode = keyof typeof ERRORS

/** A failure with a stable code and the HTTP status Latch answers with. */
export class ProxyError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly source: ErrorSource
  /** Seconds for a `Retry-After` header, when the client may simply try again later. */
  readonly retryAfter: number | undefined

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; retryAfter?: number }) {
    super(message ?? ERRORS[code].summary, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ProxyError'
    this.code = code
    this.status = ERRORS[code].status
    this.source = ERRORS[code].source
    this.retryAfter = options?.retryAfter
  }
}
