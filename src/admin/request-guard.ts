/**
 * @module Keeps web pages out of the admin API, whatever address it listens on.
 *
 * A page in the operator's browser can send requests to the admin listener: a cross-origin "simple"
 * POST needs no CORS preflight, and DNS rebinding points a page's own name at 127.0.0.1 so that even
 * its reads are same-origin. Browsers always send the name they connected to in `Host` and, on every
 * POST, the page's origin in `Origin`; and they cannot add a custom header to a cross-origin request
 * without a preflight, which the admin API never grants. So:
 * - `Host` (when present) names this listener: the connection's local IP address, the address the
 *   listener is bound to (e.g. 0.0.0.0), or `localhost`, with the local port or none, or one of
 *   `admin.allowedHosts` (a Service name, a published port); anything else is refused (421);
 * - `Origin` (when present) is the listener's own origin, `http://` + that `Host` (403);
 * - a mutating call carries `X-Latch-Admin: 1`, which a page elsewhere cannot send (403).
 * Clients that are not browsers (curl, probes, scripts) send no `Origin` and a numeric or localhost Host.
 */
import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { AdminError } from './admin-error.js'

/** The header every mutating call carries (a custom header forces a preflight on cross-origin pages). */
export const ADMIN_HEADER = 'x-latch-admin'

/** The checks of one admin listener. */
export interface RequestGuard {
  /** Tells the guard the address the listener is bound to (e.g. 0.0.0.0), once it listens. */
  listening(boundAddress: string): void
  /** Refuses a request whose Host or Origin is not this listener's (see the module comment). */
  check(req: IncomingMessage): void
  /** Refuses a mutating call without `X-Latch-Admin: 1`. */
  checkMutation(req: IncomingMessage): void
}

/** The guard of a listener that also accepts `allowedHosts` (`admin.allowedHosts`: `name` = any port, `name:port` = that port). */
export function requestGuard(allowedHosts: readonly string[]): RequestGuard {
  const allowed = new Set(allowedHosts.map((host) => host.toLowerCase()))
  let bound = ''
  return {
    listening(boundAddress) {
      bound = boundAddress
    },
    check(req) {
      const host = req.headers.host
      if (host !== undefined && !isOwnHost(host, req, bound) && !isAllowedHost(host, allowed)) {
        throw new AdminError('ERR_ADMIN_HOST_REFUSED', `Host "${host}" is not this admin listener — use its IP address (${hostOf(req)}) or localhost, with port ${req.socket.localPort ?? '?'} or none; other names are refused (DNS rebinding) unless listed in admin.allowedHosts`)
      }
      const origin = req.headers.origin
      if (origin !== undefined && (host === undefined || !isSameOrigin(origin, host))) {
        throw new AdminError('ERR_ADMIN_ORIGIN_REFUSED', `Origin "${origin}" is not this admin listener's own origin${host === undefined ? '' : ` (http://${host})`} — the admin API does not take calls from other web pages`)
      }
    },
    checkMutation(req) {
      if (req.headers[ADMIN_HEADER] !== '1') {
        throw new AdminError('ERR_ADMIN_HEADER_REQUIRED', 'this call changes state and needs the header "X-Latch-Admin: 1" (so that no web page can send it)')
      }
    },
  }
}

/** True when `host` is listed, exactly or by its name without the port. */
function isAllowedHost(host: string, allowed: ReadonlySet<string>): boolean {
  if (allowed.size === 0) return false
  const lower = host.toLowerCase()
  if (allowed.has(lower)) return true
  const portAt = lower.lastIndexOf(':')
  return portAt > lower.lastIndexOf(']') && allowed.has(lower.slice(0, portAt))
}

/** True when `host` (a Host header value) is the local or bound IP address, or localhost, with the local port or none. */
function isOwnHost(host: string, req: IncomingMessage, boundAddress: string): boolean {
  let name = host
  let port: string | undefined
  if (host.startsWith('[')) {
    const close = host.indexOf(']')
    if (close === -1) return false
    name = host.slice(1, close)
    if (close + 1 < host.length) {
      if (host[close + 1] !== ':') return false
      port = host.slice(close + 2)
    }
    if (isIP(name) !== 6) return false
  } else {
    const colon = host.indexOf(':')
    if (colon !== -1) {
      name = host.slice(0, colon)
      port = host.slice(colon + 1)
    }
    if (isIP(name) === 6) return false // IPv6 literals are bracketed in a Host header
  }
  if (port !== undefined && port !== String(req.socket.localPort)) return false
  if (name.toLowerCase() === 'localhost') return true
  if (isIP(name) === 0) return false
  const address = canonicalIp(name)
  return address === hostOf(req) || address === canonicalIp(boundAddress)
}

/** True when `origin` is exactly `http://<host>` (scheme, name and effective port). */
function isSameOrigin(origin: string, host: string): boolean {
  try {
    return new URL(origin).origin === new URL(`http://${host}`).origin
  } catch {
    return false // "null" (sandboxed pages, file:), or garbage
  }
}

/** The connection's local address, as a client would write it. */
function hostOf(req: IncomingMessage): string {
  return canonicalIp(req.socket.localAddress ?? '')
}

/** One spelling per address: IPv4-mapped IPv6 as IPv4, IPv6 compressed and lower case. */
function canonicalIp(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return mapped[1] as string
  if (isIP(address) !== 6) return address
  try {
    return new URL(`http://[${address}]`).hostname.slice(1, -1)
  } catch {
    return address
  }
}
