/**
 * @module Errors of the admin API: stable codes, HTTP statuses, and the JSON replies that carry them.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http'

/** Every admin error code with its HTTP status and meaning (stable: scripts and tests match on the code; the README's table is generated from here). */
export const ADMIN_ERRORS = {
  ERR_ADMIN_BAD_REQUEST: { status: 400, summary: 'The request target is not a valid path, or a path parameter is not valid percent-encoding' },
  ERR_ADMIN_BAD_ACTION: { status: 400, summary: 'The endpoint action is not drain, undrain or maintenance' },
  ERR_ADMIN_UNAUTHORIZED: { status: 401, summary: 'A mutating call without the bearer token (`admin.token`), or with a wrong one' },
  ERR_ADMIN_ORIGIN_REFUSED: { status: 403, summary: 'The `Origin` header names another site than the admin listener itself (a web page)' },
  ERR_ADMIN_HEADER_REQUIRED: { status: 403, summary: 'A mutating call without `X-Latch-Admin: 1` (which a web page cannot send without a preflight)' },
  ERR_ADMIN_NOT_FOUND: { status: 404, summary: 'No admin route for this path, or reloading is not available here' },
  ERR_ADMIN_UNKNOWN_POOL: { status: 404, summary: 'No pool of that name in the running config' },
  ERR_ADMIN_UNKNOWN_ENDPOINT: { status: 404, summary: 'No endpoint `host:port` in that pool' },
  ERR_ADMIN_METHOD_NOT_ALLOWED: { status: 405, summary: 'The route exists but not for this method (`Allow` names the methods)' },
  ERR_ADMIN_HOST_REFUSED: { status: 421, summary: 'The `Host` header is neither the listener\'s address, `localhost` nor in `admin.allowedHosts` (DNS rebinding)' },
  ERR_ADMIN_INTERNAL: { status: 500, summary: 'An unexpected error in the admin API; the log has details' },
} as const satisfies Record<string, { readonly status: number; readonly summary: string }>

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
    this.status = ADMIN_ERRORS[code].status
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
