/**
 * @module Latch's own answers to gRPC calls (requests with `content-type: application/grpc…`): a gRPC
 * status, never an HTML or JSON body. gRPC clients read the status from the trailers and treat any
 * HTTP status but 200 as a transport failure, so the HTTP status is 200 and the Latch error code
 * travels in `x-latch-error` and `grpc-message`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ErrorCode, ProxyError } from '../errors/proxy-error.js'
import { encodeGrpcMessage, GrpcStatus, isGrpcContentType } from '../grpc/grpc-wire.js'

/** The gRPC status for each Latch error (HTTP-to-gRPC mapping of the gRPC spec where one applies). */
const GRPC_STATUS: Readonly<Record<ErrorCode, GrpcStatus>> = {
  ERR_BAD_REQUEST: GrpcStatus.INTERNAL,
  ERR_BAD_PATH: GrpcStatus.INTERNAL,
  ERR_NO_ROUTE: GrpcStatus.UNIMPLEMENTED,
  ERR_METHOD_NOT_ALLOWED: GrpcStatus.UNIMPLEMENTED,
  ERR_REQUEST_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  ERR_BODY_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  ERR_BODY_TOO_SLOW: GrpcStatus.DEADLINE_EXCEEDED,
  ERR_BODY_TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
  ERR_HEADERS_TOO_LARGE: GrpcStatus.RESOURCE_EXHAUSTED,
  ERR_CLIENT_ABORTED: GrpcStatus.CANCELLED,
  ERR_INTERNAL: GrpcStatus.INTERNAL,
  ERR_UPSTREAM_CONNECT: GrpcStatus.UNAVAILABLE,
  ERR_UPSTREAM_TLS: GrpcStatus.UNAVAILABLE,
  ERR_UPSTREAM_RESET: GrpcStatus.UNAVAILABLE,
  ERR_UPSTREAM_RESPONSE: GrpcStatus.INTERNAL,
  ERR_NO_ENDPOINT: GrpcStatus.UNAVAILABLE,
  // Every backend of the rule has weight 0: a configuration state, not a passing failure.
  ERR_NO_BACKEND: GrpcStatus.UNAVAILABLE,
  ERR_QUEUE_FULL: GrpcStatus.UNAVAILABLE,
  ERR_QUEUE_TIMEOUT: GrpcStatus.UNAVAILABLE,
  ERR_SESSION_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  ERR_STORE_UNAVAILABLE: GrpcStatus.UNAVAILABLE,
  ERR_PROXY_RESOURCES: GrpcStatus.UNAVAILABLE,
  ERR_SHUTTING_DOWN: GrpcStatus.UNAVAILABLE,
  ERR_DEADLINE_EXCEEDED: GrpcStatus.DEADLINE_EXCEEDED,
  ERR_UPSTREAM_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
  ERR_ROUTE_TIMEOUT: GrpcStatus.DEADLINE_EXCEEDED,
}

/** The gRPC status Latch answers `code` with. */
export function grpcStatusOf(code: ErrorCode): GrpcStatus {
  return GRPC_STATUS[code]
}

/** True when the request is a gRPC call (read only on error paths and for h2 pools). */
export function isGrpcRequest(req: IncomingMessage): boolean {
  return isGrpcContentType(req.headers['content-type'])
}

function statusTrailers(error: ProxyError): Record<string, string> {
  return { 'grpc-status': String(grpcStatusOf(error.code)), 'grpc-message': encodeGrpcMessage(`${error.code}: ${error.message}`) }
}

/**
 * Answers a gRPC call with `error` as its status. HTTP/2: an empty response head and the status in
 * the trailers. HTTP/1.1 (gRPC-Web): the status in the head of an empty response (Trailers-Only).
 */
export function sendGrpcError(res: ServerResponse, error: ProxyError, requestIdHeader: string, requestId: string): void {
  const status = statusTrailers(error)
  const headers: Record<string, string> = { 'content-type': 'application/grpc', 'x-latch-error': error.code, [requestIdHeader]: requestId }
  if (res.req.httpVersionMajor === 2) {
    res.writeHead(200, headers)
    res.addTrailers(status)
  } else {
    res.writeHead(200, { ...headers, ...status, 'content-length': '0' })
  }
  res.end()
}

/**
 * A gRPC call over HTTP/2 whose response had started when it failed (endpoint gone mid-stream): ends
 * it with `error` as its status in the trailers, so the client sees a gRPC error, not a reset.
 * False when that is not possible (HTTP/1.1, or the response already ended).
 */
export function endGrpcCall(res: ServerResponse, error: ProxyError): boolean {
  if (res.req.httpVersionMajor !== 2 || res.writableEnded || res.destroyed || !isGrpcRequest(res.req)) return false
  res.addTrailers(statusTrailers(error))
  res.end()
  return true
}
