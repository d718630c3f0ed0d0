/**
 * @module Errors of the admin API: stable codes, HTTP statuses, and the JSON replies that carry them.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'

/** Every admin error code with its HTTP status (stable: scripts and tests match on the code). */
export const ADMIN_ERRORS = {
  ERR_ADMIN_BAD_REQUEST: 400,
  ERR_ADMIN_BAD_ACTION: 400,
  ERR_ADMIN_UNAUTHORIZED: 401,
  ERR_ADMIN_ORIGIN_REFUSED: 403,
  ERR_ADMIN_HEADER_REQUIRED: 403,
  ERR_ADMIN_NOT_FOUND: 404,
  ERR_ADMIN_UNKNOWN_POOL: 404,
  ERR_ADMIN_UNKNOWN_ENDPOINT: 404,
  ERR_ADMIN_METHOD_NOT_ALLOWED: 405,
  ERR_ADMIN_HOST_REFUSED: 421,
  ERR_ADMIN_INTERNAL: 500,
} as const

/** A stable admin error code, e.g. `ERR_ADMIN_UNKNOWN_POOL`. */
export type AdminErrorCode = keyof typeof ADMIN_ERRORS

/** A refused admin call; `headers` are added to the reply (Allow, WWW-Authenticate). */
export class AdminError extends Error {
  readonly code: AdminErrorCode
  readonly status: number
  readonly headers: OutgoingHttpHeaders

  constructor(code: AdminErrorCode, message: string, headers: OutgoingHttpHeaders = {}) {
    super(message)
    this.name = 'AdminError'
    this.code = code
    this.status = ADMIN_ERRORS[code]
    this.headers = headers
  }
}

/** Sends `body` as a complete JSON reply that no cache keeps. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  const text = `${JSON.stringify(body, null, 2)}\n`
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

/** Sends an admin error in the same shape as the proxy's own errors: `{ error, status, message }`. */
export function sendAdminError(res: ServerResponse, error: AdminError): void {
  sendJson(res, error.status, { error: error.code, status: error.status, message: error.message }, error.headers)
}
