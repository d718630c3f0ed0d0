/**
 * @module Checks a client request's headers and builds the headers sent upstream, in one pass.
 *
 * Node's parser (llhttp, strict mode) already refuses bad chunking, obs-fold, bare CR, conflicting
 * Content-Length/Transfer-Encoding and duplicate Content-Length. What it lets through and we refuse
 * (RFC 9112 §3.2, §6.1, §6.3; RFC 9110 §7.2): a missing, empty, invalid or
 * duplicate Host, Transfer-Encoding other than exactly `chunked`, Transfer-Encoding on HTTP/1.0, and
 * more headers than maxHeadersCount (Node would silently truncate the list instead).
 *
 * The upstream never receives hop-by-hop headers, `Expect` (answered by Latch), or forwarding headers
 * from an untrusted peer: those are replaced with what Latch itself saw.
 */
import type { IncomingMessage } from 'node:http'
import { nextRequestId } from '../observability/request-id.js'
import { continueTrace, type RequestTrace, type TraceContextPolicy } from '../observability/trace-context.js'
import { ProxyError } from '../errors/proxy-error.js'
import { isValidHostHeader } from '../net/address.js'
import type { TrustedNetworks } from '../net/trusted-networks.js'
import { forwardedNode, forwardedProto, isTrusted, peerAddress, resolveClientAddress } from './client-address.js'
import { connectionListed } from './hop-by-hop.js'
import { http2MayHaveBody, http2RequestHeaders } from './http2-request.js'

/** Header rules compiled once from the config. */
export interface HeaderRules {
  readonly trusted: TrustedNetworks | undefined
  readonly xForwarded: boolean
  readonly forwarded: boolean
  readonly via: boolean
  /** Lower-case name of the request-id header. */
  readonly requestIdHeader: string
  readonly maxHeadersCount: number
  /** W3C Trace Context participation (`tracing`); undefined: trace headers pass through untouched. */
  readonly tracing: TraceContextPolicy | undefined
}

/** What the pass learns about the request; the exchange holds these fields. */
export interface PreparedRequest extends RequestTrace {
  /** Flat [name, value, ...] list for undici; index 0-1 is Host (patched per attempt if needed). */
  upstreamHeaders: string[]
  /** The client's Host header as sent (with port), or '' for HTTP/1.0 without one. */
  hostHeader: string
  clientIp: string
  requestId: string
  /** Declared Content-Length, or -1 when absent. */
  contentLength: number
  chunked: boolean
  /** The client's Cookie headers joined with "; " (RFC 6265 §5.4), sent upstream as one header. */
  cookieHeader: string | undefined
  /** Index of the Cookie entry in `upstreamHeaders`, or -1. */
  cookieIndex: number
  /** TLS, or a trusted peer says https (`X-Forwarded-Proto`, else `Forwarded: proto=`). */
  secure: boolean
}

const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,200}$/

/** Fills `out` from `req`; returns a ProxyError for a request that must be refused. */
export function prepareRequestHeaders(req: IncomingMessage, rules: HeaderRules, out: PreparedRequest): ProxyError | undefined {
  const h2 = req.httpVersionMajor === 2
  const raw = h2 ? http2RequestHeaders(req.rawHeaders) : req.rawHeaders
  if (raw instanceof ProxyError) return raw
  if (raw.length > rules.maxHeadersCount * 2) return new ProxyError('ERR_HEADERS_TOO_LARGE', `more than ${rules.maxHeadersCount} request headers`)
  const headers: string[] = ['host', '']
  let hosts = 0
  let transferEncoding: string | undefined
  let transferEncodings = 0
  let contentLength: string | undefined
  let xForwardedFor: string | undefined
  let xForwardedProto: string | undefined
  let xForwardedHost: string | undefined
  let xForwardedPort: string | undefined
  let forwarded: string | undefined
  let requestId: string | undefined
  let connection: string | undefined
  let via: string | undefined
  let traceparent: string | undefined
  let traceparents = 0
  let tracestate: string | undefined
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string
    const value = raw[i + 1] as string
    const lower = interesting(name, rules.requestIdHeader.length)
    if (lower === undefined) {
      headers.push(name, value)
      continue
    }
    switch (lower) {
      case 'host':
        hosts++
        out.hostHeader = value
        break
      case 'content-length':
        contentLength = value
        headers.push(name, value)
        break
      case 'transfer-encoding':
        transferEncodings++
        transferEncoding = value
        break
      case 'x-forwarded-for':
        xForwardedFor = xForwardedFor === undefined ? value : `${xForwardedFor}, ${value}`
        break
      case 'x-forwarded-proto':
        xForwardedProto ??= value
        break
      case 'x-forwarded-host':
        xForwardedHost ??= value
        break
      case 'x-forwarded-port':
        xForwardedPort ??= value
        break
      case 'forwarded':
        forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`
        break
      case 'via':
        via = via === undefined ? value : `${via}, ${value}`
        break
      case 'connection':
        connection = connection === undefined ? value : `${connection}, ${value}`
        break
      case 'te': case 'keep-alive': case 'upgrade': case 'proxy-connection': case 'proxy-authorization': case 'expect':
        break
      case 'traceparent':
        if (rules.tracing === undefined) headers.push(name, value)
        else {
          traceparents++
          traceparent = value
        }
        break
      case 'tracestate':
        if (rules.tracing === undefined) headers.push(name, value)
        else tracestate = tracestate === undefined ? value : `${tracestate},${value}`
        break
      case 'cookie':
        if (out.cookieHeader === undefined) {
          out.cookieIndex = headers.length + 1
          out.cookieHeader = value
          headers.push(name, value)
        } else {
          out.cookieHeader = `${out.cookieHeader}; ${value}`
          headers[out.cookieIndex] = out.cookieHeader
        }
        break
      default:
        if (lower === rules.requestIdHeader) requestId ??= value
        else headers.push(name, value)
    }
  }
  if (hosts > 1) return new ProxyError('ERR_BAD_REQUEST', 'duplicate Host header')
  // RFC 9112 §3.2: an HTTP/1.1 request without a Host (or with an empty one, invalid for http URIs) gets 400.
  if (out.hostHeader === '' && (req.httpVersionMinor !== 0 || h2)) return new ProxyError('ERR_BAD_REQUEST', hosts === 0 ? 'missing Host header' : 'empty Host header')
  if (out.hostHeader !== '' && !isValidHostHeader(out.hostHeader)) return new ProxyError('ERR_BAD_REQUEST', 'invalid Host header')
  if (transferEncoding !== undefined) {
    if (transferEncodings > 1 || transferEncoding.trim().toLowerCase() !== 'chunked') {
      return new ProxyError('ERR_BAD_REQUEST', 'Transfer-Encoding must be exactly "chunked"')
    }
    if (req.httpVersionMinor === 0) return new ProxyError('ERR_BAD_REQUEST', 'Transfer-Encoding is not allowed in HTTP/1.0')
  }
  // An HTTP/2 body needs no Content-Length: one of unknown length streams upstream like a chunked one.
  out.chunked = transferEncoding !== undefined || (h2 && contentLength === undefined && http2MayHaveBody(req))
  out.contentLength = contentLength === undefined ? -1 : Number(contentLength)
  const peer = peerAddress(req.socket)
  const trustedPeer = isTrusted(rules.trusted, peer)
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true
  // What a trusted proxy says the client used: X-Forwarded-Proto, else the RFC 7239 Forwarded chain.
  const trustedProto = !trustedPeer ? undefined : xForwardedProto ?? (forwarded === undefined ? undefined : forwardedProto(rules.trusted, forwarded))
  out.secure = encrypted || (trustedProto !== undefined && trustedProto.trim().toLowerCase() === 'https')
  out.clientIp = trustedPeer ? resolveClientAddress(peer, rules.trusted, xForwardedFor, forwarded) : peer
  out.requestId = requestId !== undefined && REQUEST_ID.test(requestId) ? requestId : nextRequestId()
  const ownStart = headers.length
  headers.push(rules.requestIdHeader, out.requestId)
  if (rules.tracing !== undefined) continueTrace(rules.tracing, traceparent, traceparents, tracestate, out, headers)
  if (rules.xForwarded) {
    const proto = encrypted ? 'https' : 'http'
    headers.push(
      'x-forwarded-for', trustedPeer && xForwardedFor !== undefined ? `${xForwardedFor}, ${peer}` : peer,
      'x-forwarded-proto', trustedProto ?? proto,
    )
    const forwardedHost = trustedPeer && xForwardedHost !== undefined ? xForwardedHost : out.hostHeader
    // An HTTP/1.0 request may come without Host: then there is no host to report, not an empty one.
    if (forwardedHost !== '') headers.push('x-forwarded-host', forwardedHost)
    headers.push('x-forwarded-port', trustedPeer && xForwardedPort !== undefined ? xForwardedPort : String(req.socket.localPort ?? ''))
  } else {
    passThrough(headers, xForwardedFor, xForwardedProto, xForwardedHost, xForwardedPort)
  }
  if (rules.forwarded) headers.push('forwarded', forwardedValue(trustedPeer ? forwarded : undefined, peer, req, out.hostHeader))
  else if (forwarded !== undefined && trustedPeer) headers.push('forwarded', forwarded)
  if (rules.via) {
    const received = h2 ? '2 latch' : `1.${req.httpVersionMinor} latch`
    headers.push('via', via === undefined ? received : `${via}, ${received}`)
  } else if (via !== undefined) headers.push('via', via)
  out.upstreamHeaders = connection === undefined ? headers : dropConnectionListed(headers, connection, ownStart)
  return undefined
}

/** Lower-case name when its length matches a header the pass treats specially; undefined otherwise. */
function interesting(name: string, requestIdLength: number): string | undefined {
  switch (name.length) {
    case 2: case 3: case 4: case 6: case 7: case 9: case 10: case 11: case 14: case 15: case 16: case 17: case 19:
      return name.toLowerCase()
    default:
      return name.length === requestIdLength ? name.toLowerCase() : undefined
  }
}

function passThrough(headers: string[], xff?: string, proto?: string, host?: string, port?: string): void {
  if (xff !== undefined) headers.push('x-forwarded-for', xff)
  if (proto !== undefined) headers.push('x-forwarded-proto', proto)
  if (host !== undefined) headers.push('x-forwarded-host', host)
  if (port !== undefined) headers.push('x-forwarded-port', port)
}

function forwardedValue(incoming: string | undefined, peer: string, req: IncomingMessage, host: string): string {
  const proto = (req.socket as { encrypted?: boolean }).encrypted === true ? 'https' : 'http'
  const hostPart = host === '' ? '' : `;host="${host.replace(/["\\]/g, '')}"`
  const own = `for=${forwardedNode(peer)};proto=${proto}${hostPart}`
  return incoming === undefined ? own : `${incoming}, ${own}`
}

/**
 * Removes client headers that the client's Connection header names (RFC 9110 §7.6.1). Headers Latch
 * set itself (from `ownStart` on: forwarding, request id, Via) and Host cannot be removed this way.
 */
function dropConnectionListed(headers: string[], connection: string, ownStart: number): string[] {
  const listed = connectionListed(connection)
  if (listed === undefined) return headers
  const kept: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string
    if (i < 2 || i >= ownStart || !listed.has(name.toLowerCase())) kept.push(name, headers[i + 1] as string)
  }
  return kept
}
