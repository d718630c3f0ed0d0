/**
 * @module Upgrade requests (WebSocket and any other `Upgrade` protocol), tunnelled with http-proxy.
 *
 * An upgrade is routed, checked and balanced exactly like a plain request, honours the pool's sticky
 * sessions (upgrade-affinity.ts) and gets the same forwarding headers; only the transport differs.
 * http-proxy's WebSocket-only method check is removed (Latch checks the request itself), and a
 * non-101 answer has its framing headers rewritten so the de-chunked body it relays is
 * close-delimited instead of mislabelled as chunked. Connecting, timeouts and retries of the upstream
 * leg: upgrade-attempt.ts and upgrade-affinity.ts. How long the sockets live: tunnel-sockets.ts;
 * access line, metrics and passive health: upgrade-record.ts.
 */
import type { IncomingMessage } from 'node:http'
import type HttpProxy from 'http-proxy'
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
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import type { PoolTarget } from './pool-target.js'
import { whenReady } from '../stores/affinity-store.js'
import { pickUpgradeEndpoint, retryUpgradeEndpoint, UpgradeSession } from './upgrade-affinity.js'
import { connectedAgent, limitAnswerWait } from './upgrade-attempt.js'
import { joinTunnel, releaseAfterAnswer, tunnelTimeouts, watchUpgradeSocket } from './tunnel-sockets.js'
import { UpgradeRecord } from './upgrade-record.js'
import { AttemptPhase, fromUpstreamError } from './upstream-errors.js'

const REASONS: Readonly<Record<number, string>> = { 400: 'Bad Request', 404: 'Not Found', 431: 'Request Header Fields Too Large', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' }

/** Live tunnel count, for shutdown and metrics. */
export interface TunnelRegistry {
  readonly sockets: Set<Socket>
}

/** Creates the server's `upgrade` listener. */
export function createUpgradeHandler(holder: RuntimeHolder, logger: Logger, tunnels: TunnelRegistry): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  // Sessions of upgrades in flight, by request: their headers go on the upstream's answer.
  const sessions = new WeakMap<IncomingMessage, UpgradeBinding>()
  // Client sockets whose upstream has answered (101 or not): a later error must not write a 502 into them.
  const answered = new WeakSet<Socket>()
  // Upgrades being tunnelled, by request.
  const records = new WeakMap<IncomingMessage, UpgradeRecord>()
  // Created at the first tunnel: most deployments never upgrade, and http-proxy stays unloaded.
  let tunnelProxy: HttpProxy | undefined
  const createTunnelProxy = (): HttpProxy => {
    const proxy = loadHttpProxy().createProxyServer({ xfwd: false, ws: true, prependPath: false })
    // Latch validates method and Upgrade itself, so protocols other than WebSocket tunnel too.
    const passes = (proxy as unknown as { wsPasses: { name: string }[] }).wsPasses
    ;(proxy as unknown as { wsPasses: unknown[] }).wsPasses = passes.filter((pass) => pass.name !== 'checkMethodAndHeader')
    proxy.on('proxyReqWs', (proxyReq, req, socket) => {
      // Emitted within proxy.ws(): the runtime is the one the upgrade was routed with.
      const timeouts = tunnelTimeouts(holder.runtime.loaded.config.server)
      const record = records.get(req) as UpgradeRecord
      limitAnswerWait(proxyReq, (record.endpoint as Endpoint).id, (record.pool as UpstreamPool).config.timeouts.responseHeaders)
      proxyReq.prependListener('response', (res: IncomingMessage) => {
        answered.add(socket)
        record.answered(res.statusCode ?? 0)
        commitSession(sessions, req, res)
        closeDelimited(res)
        releaseAfterAnswer(socket)
      })
      proxyReq.prependListener('upgrade', (res: IncomingMessage, upstream: Socket, upstreamHead: Buffer) => {
        answered.add(socket)
        record.answered(101)
        record.tunnelled(upstream, upstreamHead)
        commitSession(sessions, req, res)
        joinTunnel(socket, upstream, timeouts, record)
      })
      // The client left (or timed out) before the upstream answered: stop waiting for the answer.
      socket.once('close', () => {
        if (!answered.has(socket)) proxyReq.destroy()
      })
    })
    proxy.on('error', (error) => logger.warn({ err: error.message }, 'upgrade tunnel error'))
    return proxy
  }

  return (req, socket, head) => {
    const runtime = holder.runtime
    watchUpgradeSocket(socket, runtime.loaded.config.server.idleTimeout)
    const prepared: PreparedRequest = { upstreamHeaders: [], hostHeader: '', clientIp: '', requestId: '', contentLength: -1, chunked: false, cookieHeader: undefined, cookieIndex: -1, secure: false }
    const refused = prepareRequestHeaders(req, runtime.headerRules, prepared)
    const record = new UpgradeRecord(runtime, req.method ?? 'GET', upgradeToken(req), prepared)
    socket.once('close', () => record.closed(socket))
    if (refused !== undefined) return refuse(socket, refused, record, runtime)
    const routed = routeUpgrade(req, socket, head, runtime, prepared, record)
    if (routed instanceof ProxyError) return refuse(socket, routed, record, runtime)
    const chosen = pickUpgradeEndpoint(routed.routeTarget, routed.session)
    if (chosen instanceof Promise) chosen.then((endpoint) => tunnel(routed, endpoint, runtime), () => refuse(socket, new ProxyError('ERR_NO_ENDPOINT', `no available endpoint in pool "${routed.pool.name}"`), record, runtime))
    else tunnel(routed, chosen, runtime)
  }

  function refuse(socket: Socket, error: ProxyError, record: UpgradeRecord, runtime: ProxyRuntime, endpointAtFault = false): void {
    record.failed(error, endpointAtFault)
    const requestId = record.requestId === '' ? undefined : record.requestId
    if (!socket.writable) {
      socket.destroy()
      return
    }
    socket.end(rawErrorResponse(error.status, REASONS[error.status] ?? 'Error', error.code, error.message, requestId, runtime.headerRules.requestIdHeader, error.retryAfter))
    releaseAfterAnswer(socket)
  }

  function tunnel(routed: RoutedUpgrade, chosen: Endpoint | ProxyError, runtime: ProxyRuntime): void {
    const { req, socket, pool, record } = routed
    record.affinityOutcome = routed.session.affinityOutcome
    if (chosen instanceof ProxyError) return refuse(socket, chosen, record, runtime)
    if (socket.destroyed) return
    records.set(req, record)
    pool.retryBudget.recordRequest(performance.now())
    tunnels.sockets.add(socket)
    socket.once('close', () => {
      if (record.endpoint !== undefined) record.endpoint.upgraded--
      tunnels.sockets.delete(socket)
    })
    connectAttempt(routed, chosen, runtime, [])
  }

  /** Connects to `endpoint` as the pool's requests do (connect timeout, TLS); a failed connect may be retried elsewhere. */
  function connectAttempt(routed: RoutedUpgrade, endpoint: Endpoint, runtime: ProxyRuntime, tried: Endpoint[]): void {
    const { socket, record } = routed
    if (record.endpoint !== undefined) record.endpoint.upgraded--
    record.endpoint = endpoint
    record.attempts++
    endpoint.upgraded++
    endpoint.openConnection((error, upstream) => {
      // The client left while Latch connected: nothing failed upstream.
      if (socket.destroyed) return upstream?.destroy()
      if (error === null) return send(routed, endpoint, upstream, runtime)
      const failure = fromUpstreamError(error, AttemptPhase.Connecting, endpoint.id)
      logger.warn({ reqId: routed.prepared.requestId, endpoint: endpoint.id, code: failure.code, err: failure.message }, 'upgrade to endpoint failed')
      tried.push(endpoint)
      const next = retryUpgradeEndpoint(routed.routeTarget, routed.session, failure, tried)
      record.affinityOutcome = routed.session.affinityOutcome
      if (next === undefined) return refuse(socket, failure, record, runtime, failure.source === 'upstream')
      if (failure.source === 'upstream') record.attemptFailed(failure)
      whenReady(next, (chosen) => {
        if (socket.destroyed) return
        if (chosen instanceof ProxyError) refuse(socket, chosen, record, runtime)
        else connectAttempt(routed, chosen, runtime, tried)
      })
    }, routed.prepared.clientIp, socket)
  }

  /** Sends the upgrade over the connection made to `endpoint` and tunnels it once the endpoint accepts. */
  function send(routed: RoutedUpgrade, endpoint: Endpoint, upstream: Socket, runtime: ProxyRuntime): void {
    const { req, socket, head, prepared, pool, record } = routed
    record.affinityOutcome = routed.session.affinityOutcome
    prepared.upstreamHeaders[1] = pool.hostFor(prepared.hostHeader, endpoint)
    req.headers = upgradeHeaders(prepared, req)
    req.url = routed.target
    if (routed.routeTarget.affinity !== undefined) sessions.set(req, { routeTarget: routed.routeTarget, endpoint, session: routed.session })
    const options = { target: endpoint.url.origin, agent: connectedAgent(upstream, endpoint.url.protocol) }
    ;(tunnelProxy ??= createTunnelProxy()).ws(req, socket, head, options, (error) => {
      // The client left first (its request to the upstream was aborted): nothing failed upstream.
      const clientLeft = socket.destroyed
      // http-proxy ends the client socket after this callback.
      releaseAfterAnswer(socket)
      if (clientLeft) return
      if (answered.has(socket)) {
        logger.warn({ reqId: prepared.requestId, endpoint: endpoint.id, err: error.message }, 'upgrade tunnel to endpoint failed')
        return
      }
      logger.warn({ reqId: prepared.requestId, endpoint: endpoint.id, err: error.message }, 'upgrade to endpoint failed')
      const failure = fromUpstreamError(error, AttemptPhase.Sent, endpoint.id)
      record.failed(failure, failure.source === 'upstream')
      if (socket.writable) socket.write(rawErrorResponse(failure.status, REASONS[failure.status] ?? 'Error', failure.code, failure.message, prepared.requestId, runtime.headerRules.requestIdHeader))
    })
    // http-proxy cleared the client socket's timeout: it stays an idle HTTP connection until the answer.
    socket.setTimeout(runtime.loaded.config.server.idleTimeout)
  }
}

/** The session of an upgrade being tunnelled, until its upstream answers. */
interface UpgradeBinding {
  readonly routeTarget: PoolTarget
  readonly endpoint: Endpoint
  readonly session: UpgradeSession
}

/** Commits the session once the upstream answers (101 or not) and adds its headers to that answer. */
function commitSession(sessions: WeakMap<IncomingMessage, UpgradeBinding>, req: IncomingMessage, res: IncomingMessage): void {
  const binding = sessions.get(req)
  if (binding === undefined) return
  sessions.delete(req)
  const added = binding.session.commit(binding.routeTarget, binding.endpoint, res.rawHeaders)
  for (let i = 0; i < added.length; i += 2) {
    const name = (added[i] as string).toLowerCase()
    const value = added[i + 1] as string
    const existing = res.headers[name]
    if (name === 'set-cookie') res.headers['set-cookie'] = [...(existing as string[] | undefined ?? []), value]
    else res.headers[name] = value
  }
}

interface RoutedUpgrade {
  readonly req: IncomingMessage
  readonly socket: Socket
  readonly head: Buffer
  readonly pool: UpstreamPool
  /** The pool with its affinity, as the route resolved it. */
  readonly routeTarget: PoolTarget
  readonly prepared: PreparedRequest
  readonly session: UpgradeSession
  readonly target: string
  readonly record: UpgradeRecord
}

function routeUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, runtime: ProxyRuntime, prepared: PreparedRequest, record: UpgradeRecord): RoutedUpgrade | ProxyError {
  const parsed = parseRequestTarget(req.url ?? '/', prepared.hostHeader)
  if (parsed instanceof ProxyError) return parsed
  record.logPath = parsed.path
  const route = runtime.router.match(parsed.host, parsed.path, req, parsed.target)
  if (route === undefined) return new ProxyError('ERR_NO_ROUTE', `no route for host "${parsed.host}" and path "${parsed.path}"`)
  record.routeDescription = route.description
  record.ruleId = route.target.action.id
  // Gateway API filters do not apply to upgrades; a rule that only redirects has no backend to upgrade to.
  if (route.target.filters?.answersDirectly === true) return new ProxyError('ERR_NO_BACKEND', `route rule ${route.target.action.id} redirects or has no backend; upgrades are not redirected`)
  const session = new UpgradeSession(req, prepared, parsed.target, parsed.path)
  const target = route.target.choose(session)
  if (target instanceof ProxyError) return target
  record.pool = target.pool
  record.affinity = target.affinity
  return { req, socket, head, pool: target.pool, routeTarget: target, prepared, session, target: parsed.target, record }
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
