/**
 * @module Upgrade requests (WebSocket and any other `Upgrade` protocol), tunnelled with http-proxy.
 *
 * An upgrade is routed, checked and balanced exactly like a plain request and gets the same
 * forwarding headers; only the transport differs. http-proxy's WebSocket-only method check is
 * removed (Latch checks the request itself), and a non-101 answer has its framing headers rewritten
 * so the de-chunked body it relays is close-delimited instead of mislabelled as chunked.
 */
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { ProxyError } from '../errors/proxy-error.js'
import type { Logger } from '../observability/logger.js'
import { rawErrorResponse } from './error-response.js'
import { loadHttpProxy } from './http-proxy-loader.js'
import type { RuntimeHolder } from './handler.js'
import { prepareRequestHeaders, type PreparedRequest } from './request-headers.js'
import { parseRequestTarget } from './request-target.js'
import type { ProxyRuntime } from './runtime.js'
import type { Endpoint } from '../upstream/endpoint.js'

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 404: 'Not Found', 431: 'Request Header Fields Too Large', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }

/** Live tunnel count, for shutdown and metrics. */
export interface TunnelRegistry {
  readonly sockets: Set<Socket>
}

/** Creates the server's `upgrade` listener. */
export function createUpgradeHandler(holder: RuntimeHolder, logger: Logger, tunnels: TunnelRegistry): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  const proxy = loadHttpProxy().createProxyServer({ xfwd: false, ws: true, prependPath: false })
  // Latch validates method and Upgrade itself, so protocols other than WebSocket tunnel too.
  const passes = (proxy as unknown as { wsPasses: { name: string }[] }).wsPasses
  ;(proxy as unknown as { wsPasses: unknown[] }).wsPasses = passes.filter((pass) => pass.name !== 'checkMethodAndHeader')
  proxy.on('proxyReqWs', (proxyReq) => proxyReq.prependListener('response', closeDelimited))
  proxy.on('error', (error) => logger.warn({ err: error.message }, 'upgrade tunnel error'))

  return (req, socket, head) => {
    socket.setTimeout(0)
    socket.on('error', () => socket.destroy())
    const runtime = holder.runtime
    const refused = routeUpgrade(req, runtime)
    if (refused instanceof ProxyError) {
      socket.end(rawErrorResponse(refused.status, REASONS[refused.status] ?? 'Error', refused.code, refused.message, undefined, runtime.headerRules.requestIdHeader))
      return
    }
    const { endpoint, prepared } = refused
    req.headers = upgradeHeaders(prepared, req)
    req.url = refused.target
    endpoint.upgraded++
    tunnels.sockets.add(socket)
    socket.once('close', () => {
      endpoint.upgraded--
      tunnels.sockets.delete(socket)
    })
    // https endpoints: the pool's CA, SNI name and verification (tls/upstream-tls.ts).
    const agent = endpoint.upgradeAgent
    proxy.ws(req, socket, head, agent === undefined ? { target: endpoint.url.origin } : { target: endpoint.url.origin, agent }, (error) => {
      logger.warn({ reqId: prepared.requestId, endpoint: endpoint.id, err: error.message }, 'upgrade to endpoint failed')
      const failure = new ProxyError('ERR_UPSTREAM_CONNECT', `cannot connect to ${endpoint.id}`)
      if (socket.writable) socket.write(rawErrorResponse(502, REASONS[502] as string, failure.code, failure.message, prepared.requestId, runtime.headerRules.requestIdHeader))
    })
  }
}

interface RoutedUpgrade {
  readonly endpoint: Endpoint
  readonly prepared: PreparedRequest
  readonly target: string
}

function routeUpgrade(req: IncomingMessage, runtime: ProxyRuntime): RoutedUpgrade | ProxyError {
  const prepared: PreparedRequest = { upstreamHeaders: [], hostHeader: '', clientIp: '', requestId: '', contentLength: -1, chunked: false, cookieHeader: undefined, cookieIndex: -1, secure: false }
  const refused = prepareRequestHeaders(req, runtime.headerRules, prepared)
  if (refused !== undefined) return refused
  const parsed = parseRequestTarget(req.url ?? '/', prepared.hostHeader)
  if (parsed instanceof ProxyError) return parsed
  const route = runtime.router.match(parsed.host, parsed.path)
  if (route === undefined) return new ProxyError('ERR_NO_ROUTE', `no route for host "${parsed.host}" and path "${parsed.path}"`)
  // Tunnels do not take request slots, so request limits do not apply to them.
  const endpoint = route.pool.pick(undefined, true) as Endpoint | undefined
  if (endpoint === undefined) return new ProxyError('ERR_NO_ENDPOINT', `no available endpoint in pool "${route.pool.name}"`)
  prepared.upstreamHeaders[1] = route.pool.hostFor(prepared.hostHeader, endpoint)
  return { endpoint, prepared, target: parsed.target }
}

/** The prepared header list as the object http-proxy copies, with the upgrade headers restored. */
function upgradeHeaders(prepared: PreparedRequest, req: IncomingMessage): NodeJS.Dict<string | string[]> {
  const out: NodeJS.Dict<string | string[]> = {}
  const list = prepared.upstreamHeaders
  for (let i = 0; i < list.length; i += 2) {
    const name = (list[i] as string).toLowerCase()
    const existing = out[name]
    const value = list[i + 1] as string
    out[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value]
  }
  out.connection = 'Upgrade'
  out.upgrade = upgradeToken(req)
  return out
}

function upgradeToken(req: IncomingMessage): string {
  const raw = req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === 'upgrade') return raw[i + 1] as string
  return 'websocket'
}

/** A refused upgrade's body arrives de-chunked: send it close-delimited, without hop-by-hop headers. */
function closeDelimited(res: IncomingMessage): void {
  if (res.statusCode === 101) return
  delete res.headers['transfer-encoding']
  delete res.headers['keep-alive']
  res.headers.connection = 'close'
}
