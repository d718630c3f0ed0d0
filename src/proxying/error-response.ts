/**
 * @module Writes Latch's own error responses: status, stable code and request id, as short JSON
 * (gRPC calls get a gRPC status instead: grpc-error-response.ts).
 */
import type { ServerResponse } from 'node:http'
import type { ProxyError } from '../errors/proxy-error.js'
import { nextRequestId } from '../observability/request-id.js'
import { isGrpcRequest, sendGrpcError } from './grpc-error-response.js'

/** Sends `error` as a complete response. `close` asks the client to open a new connection. */
export function sendError(res: ServerResponse, error: ProxyError, requestIdHeader: string, requestId: string, close = false): void {
  if (isGrpcRequest(res.req)) return sendGrpcError(res, error, requestIdHeader, requestId)
  const body = `${JSON.stringify({ error: error.code, status: error.status, message: error.message, requestId })}\n`
  const headers: string[] = [
    'content-type', 'application/json; charset=utf-8',
    'content-length', String(Buffer.byteLength(body)),
    'cache-control', 'no-store',
    'x-latch-error', error.code,
    requestIdHeader, requestId,
  ]
  if (error.retryAfter !== undefined) headers.push('retry-after', String(error.retryAfter))
  // HTTP/2 forbids Connection; its session is closed with GOAWAY instead (traffic-server.ts).
  if (close && res.req.httpVersionMajor !== 2) headers.push('connection', 'close')
  res.writeHead(error.status, headers)
  res.end(body)
}

/**
 * The same response as raw bytes, for sockets that never became a request (clientError, CONNECT,
 * upgrade). It gets a request id too (a new one when none was assigned), so every error can be quoted.
 */
export function rawErrorResponse(status: number, reason: string, code: string, message: string, requestId: string = nextRequestId(), requestIdHeader = 'x-request-id', retryAfter?: number): string {
  const body = `${JSON.stringify({ error: code, status, message, requestId })}\n`
  const retry = retryAfter === undefined ? '' : `Retry-After: ${retryAfter}\r\n`
  return `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nCache-Control: no-store\r\nX-Latch-Error: ${code}\r\n${requestIdHeader}: ${requestId}\r\n${retry}Connection: close\r\n\r\n${body}`
}
