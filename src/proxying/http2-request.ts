/**
 * @module An HTTP/2 request's header list in HTTP/1.1 terms, so one header pass serves both.
 *
 * Node's compatibility API hands HTTP/2 requests over with pseudo-headers (`:method`, `:path`,
 * `:scheme`, `:authority`) in `rawHeaders`. They never go upstream as headers: the method and path
 * travel separately, and `:authority` becomes Host (RFC 9113 §8.3.1) unless the client sent Host too.
 * Connection-specific headers are illegal in HTTP/2 (§8.2.2; Node's HTTP/2 layer already refuses
 * most of them) and are dropped here anyway, so none can reach an HTTP/1.1 endpoint.
 */
import type { IncomingMessage } from 'node:http'
import { ProxyError } from '../errors/proxy-error.js'
import { isHopByHop } from './hop-by-hop.js'

/** The request's headers without pseudo-headers, `:authority` turned into Host; or why it is refused. */
export function http2RequestHeaders(raw: readonly string[]): string[] | ProxyError {
  const out: string[] = []
  let authority: string | undefined
  let host: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    // 58 is ':'; HTTP/2 header names arrive lower-case.
    if (name.charCodeAt(0) === 58) {
      if (name === ':authority') authority = value
      continue
    }
    if (isHopByHop(name)) continue
    if (name === 'host') host = value
    out.push(name, value)
  }
  if (authority === undefined) return out
  if (host === undefined) return ['host', authority, ...out]
  return host === authority ? out : new ProxyError('ERR_BAD_REQUEST', 'Host header differs from :authority')
}

/** True when an HTTP/2 request may carry a body it did not announce with Content-Length. */
export function http2MayHaveBody(req: IncomingMessage): boolean {
  // The compatibility request exposes its stream; endAfterHeaders is set when HEADERS carried END_STREAM.
  return (req as unknown as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders !== true
}
