/**
 * @module Splits a request target into canonical path and query, checking absolute-form against Host.
 */
import { ProxyError } from '../errors/proxy-error.js'
import { normalizeHost } from '../routing/router.js'
import { normalizePath } from '../routing/normalize-path.js'

/** The routed form of a request target. */
export interface RequestTarget {
  /** Canonical path, no query: what the router sees and what is logged. */
  readonly path: string
  /** Canonical path plus the original query: exactly what the upstream receives. */
  readonly target: string
  /** Host to route on (normalised). */
  readonly host: string
}

/**
 * Parses `req.url`. Origin-form (`/a/b?q`) is the common case; absolute-form (`http://h/a`) is
 * accepted only when its authority equals the Host header (RFC 9112 §3.2.2; HAProxy does the same).
 */
export function parseRequestTarget(url: string, hostHeader: string): RequestTarget | ProxyError {
  let rest = url
  let host = hostHeader
  if (url.charCodeAt(0) !== 47 /* / */) {
    const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(url)
    if (absolute === null) return new ProxyError('ERR_BAD_REQUEST', 'request target must be a path such as /index.html')
    const authority = absolute[1] as string
    if (hostHeader !== '' && authority.toLowerCase() !== hostHeader.toLowerCase()) {
      return new ProxyError('ERR_BAD_REQUEST', 'absolute-form request target does not match the Host header')
    }
    host = authority
    rest = (absolute[2] as string) === '' ? '/' : (absolute[2] as string)
    if (rest.charCodeAt(0) === 63 /* ? */) rest = `/${rest}`
  }
  const queryAt = rest.indexOf('?')
  const rawPath = queryAt === -1 ? rest : rest.slice(0, queryAt)
  const path = normalizePath(rawPath)
  if (path === undefined) return new ProxyError('ERR_BAD_PATH', 'ambiguous or malformed request path')
  const target = queryAt === -1 ? path : path + rest.slice(queryAt)
  return { path, target, host: normalizeHost(host) }
}
