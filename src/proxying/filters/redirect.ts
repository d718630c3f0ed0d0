/**
 * @module Gateway API `RequestRedirect`: the `Location` of the redirect answered instead of proxying.
 *
 * Unset parts keep the request's own: its scheme (https when the client connection is TLS or a
 * trusted proxy says so), host and path, and the query is always kept. The port follows the spec's
 * rules: an explicit `port` wins; else a set `scheme` brings its well-known port (80, 443); else the
 * listener port as the client addressed it (the Host header's port, or the request scheme's default
 * port when the Host has none). The port is left out of `Location` when it is the scheme's default.
 */
import type { RequestRedirect } from '../../routing/route-action.js'
import { modifyPath, splitTarget } from './path-modifier.js'

/** What a redirect reads of the request. */
export interface RedirectSource {
  /** TLS, or a trusted proxy says https. */
  readonly secure: boolean
  /** The Host header as sent (with port), or '' (HTTP/1.0 without Host). */
  readonly hostHeader: string
  /** Canonical path plus query. */
  readonly target: string
}

/** The `Location` for `request`; `prefix` is the matched PathPrefix (for `ReplacePrefixMatch`). */
export function redirectLocation(redirect: RequestRedirect, request: RedirectSource, host: string, prefix: string | undefined): string {
  const requestScheme = request.secure ? 'https' : 'http'
  const scheme = redirect.scheme ?? requestScheme
  const port = redirect.port ?? (redirect.scheme !== undefined ? defaultPort(redirect.scheme) : hostPort(request.hostHeader) ?? defaultPort(requestScheme))
  const hostname = redirect.hostname ?? host
  const authority = port === defaultPort(scheme) ? hostname : `${hostname}:${port}`
  const [path, query] = splitTarget(request.target)
  const redirectedPath = redirect.path === undefined ? path : modifyPath(path, prefix, redirect.path)
  return `${scheme}://${authority}${redirectedPath}${query}`
}

function defaultPort(scheme: 'http' | 'https'): number {
  return scheme === 'https' ? 443 : 80
}

/** The port of a Host header value (`host:8080`, `[::1]:8080`), or undefined when it names none. */
export function hostPort(hostHeader: string): number | undefined {
  const colon = hostHeader.lastIndexOf(':')
  if (colon === -1 || hostHeader.indexOf(']', colon) !== -1) return undefined
  const port = Number(hostHeader.slice(colon + 1))
  return Number.isInteger(port) && port > 0 && port <= 65_535 ? port : undefined
}
