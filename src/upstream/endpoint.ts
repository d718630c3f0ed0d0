/**
 * @module One upstream endpoint: identity, keep-alive connection pool, live counters and health state.
 *
 * An endpoint's state is derived from independent inputs, so no input can overwrite another's:
 * - the operator (admin API): active, draining or maintenance;
 * - removal from the config or from discovery: draining until its deadline;
 * - active health checks: unknown, pending (new endpoint not yet checked), healthy or unhealthy;
 * - passive health: ejected until a time, or stalled (answering nothing while requests wait).
 * Precedence: maintenance > draining > unhealthy > stalled > healthy. Whenever the derived state changes, the
 * pool is told once (it logs, counts and recomputes which endpoints are usable).
 */
import type { Socket } from 'node:net'
import type { buildConnector, Dispatcher, Pool as UndiciPool } from 'undici'
import { clientConnection } from '../net/proxied-peer.js'
import { encodeProxyHeader, type ProxiedConnection, type ProxyHeaderVersion } from '../net/proxy-protocol-encoder.js'
import { h2TlsOptions, upstreamConnector } from '../tls/upstream-tls.js'
import type { PoolConfig } from '../config/schema.js'
import { hashString } from './id-hash.js'
import { endpointIdOf } from './endpoint-id.js'
import type { AdminState, CheckState, EndpointSource, EndpointState } from './endpoint-states.js'
import { ProxiedDispatchers } from './proxied-dispatchers.js'
import { proxyHeaderConnector } from './proxy-header-connector.js'
import { Pool } from './undici-parts.js'
import { H2Dispatcher, type UpstreamDispatcher } from './h2-dispatcher.js'
import { LatencyWindow } from '../observability/endpoint-latency.js'

export type { AdminState, CheckState, EndpointSource, EndpointState }

/** The result of the last active probe, for the admin API. */
export interface ProbeResult {
  readonly ok: boolean
  readonly at: number
  readonly status?: number
  readonly error?: string
  readonly durationMs: number
}

/**
 * A Pool to an `https://` endpoint. Every request carries the same `servername`, so undici never
 * derives one from the client's Host header (it would close pooled connections whenever Host
 * changes); the connector ignores it and uses the pool's real SNI name (tls/upstream-tls.ts).
 */
class TlsPool extends Pool {
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    return super.dispatch({ ...options, servername: 'latch-endpoint' } as Dispatcher.DispatchOptions, handler)
  }
}

/** Receives derived state changes (the pool). */
export type StateListener = (endpoint: Endpoint, from: EndpointState, to: EndpointState, reason: string) => void

/** An endpoint of a pool; owns one undici Pool (keep-alive connections to its origin). */
export class Endpoint {
  /** Stable identity, `host:port`; the same on every replica that sees the same endpoint. */
  readonly id: string
  readonly url: URL
  /** `host:port` as sent in `Host` when the pool rewrites it to the endpoint. */
  readonly authority: string
  readonly weight: number
  readonly maxRequests: number
  /** undici's Pool for `protocol: http1`, one HTTP/2 session for `h2`/`h2c` (h2-dispatcher.ts). */
  readonly dispatcher: UpstreamDispatcher
  /** Hash of the id, for rendezvous hashing. */
  readonly hash: number
  /** Where the endpoint came from: the config file or DNS discovery. */
  readonly source: EndpointSource

  /** Requests currently being proxied to this endpoint (read by least-request and the limiter). */
  inflight = 0
  /** Requests sent to this endpoint since start (attempts, retries included). */
  total = 0
  /** Failed requests since start (any counted kind), for the admin API. */
  failuresTotal = 0
  /** Upstream errors since start by Latch error code (ERR_UPSTREAM_CONNECT, ...), for metrics. */
  readonly errors: Record<string, number> = {}
  /** Upgraded connections (WebSocket tunnels) currently open to this endpoint. */
  upgraded = 0
  /** Consecutive failed requests (passive health). */
  consecutiveFailures = 0
  /** How often passive health ejected this endpoint. */
  ejections = 0
  /** Ejected (passive health) until this time (ms since epoch); 0 when not ejected. */
  ejectedUntil = 0
  lastProbe: ProbeResult | undefined
  /** Requests fully sent here and waiting for their response head (stall detection). */
  awaiting = 0
  /** Response heads received since start, 1xx included (stall detection watches it move). */
  responses = 0
  /** How often this endpoint was found stalled. */
  stalls = 0
  /** Durations of the requests it served (last attempt) over the last minute, for the admin API; fed by metrics. */
  readonly latency = new LatencyWindow()

  #admin: AdminState = 'active'
  #check: CheckState
  #removalDeadline = 0
  #stalled = false
  #state: EndpointState
  #listener: StateListener | undefined
  /** Opens connections to the endpoint: the pool's connect timeout and TLS settings. */
  readonly #connector: buildConnector.connector
  /** `proxyProtocol` pools: the header version sent, and the connections kept apart by client connection. */
  readonly #proxyHeader: ProxyHeaderVersion | undefined
  readonly #timeouts: PoolConfig['timeouts']
  readonly #proxied: ProxiedDispatchers | undefined

  constructor(config: { url: string; weight: number }, pool: PoolConfig, source: 'static' | 'discovery', checkedBeforeUse: boolean) {
    this.url = new URL(config.url)
    this.id = endpointIdOf(this.url)
    this.hash = hashString(this.id)
    this.authority = this.url.host
    this.weight = config.weight
    this.source = source
    this.maxRequests = pool.limits.maxRequestsPerEndpoint
    this.#check = checkedBeforeUse ? 'pending' : 'unknown'
    this.#state = this.#derive()
    this.#timeouts = pool.timeouts
    this.#connector = upstreamConnector(pool.tls, pool.timeouts.connect)
    const { timeouts } = pool
    this.dispatcher = pool.protocol === 'http1' ? this.#newPool(this.#connector) : new H2Dispatcher(this.url, {
      connectTimeout: timeouts.connect,
      headersTimeout: timeouts.responseHeaders,
      bodyTimeout: timeouts.bodyIdle,
      keepAlive: timeouts.keepAlive,
      tls: pool.protocol === 'h2' ? h2TlsOptions(pool.tls, this.url) : undefined,
    })
    // The schema allows proxyProtocol with protocol: http1 only.
    this.#proxyHeader = pool.proxyProtocol === 'off' ? undefined : pool.proxyProtocol
    if (this.#proxyHeader !== undefined) {
      const version = this.#proxyHeader
      const factory = (key: string): UndiciPool => this.#newPool(proxyHeaderConnector(this.#connector, encodeProxyHeader(version, parseConnectionKey(key))))
      this.#proxied = new ProxiedDispatchers(factory, this.maxRequests)
    }
  }

  /** An undici Pool to this endpoint with the pool's limits and timeouts, connecting with `connect`. */
  #newPool(connect: buildConnector.connector): UndiciPool {
    const timeouts = this.#timeouts
    return new (this.url.protocol === 'https:' ? TlsPool : Pool)(this.url.origin, {
      connections: this.maxRequests,
      pipelining: 1,
      keepAliveTimeout: timeouts.keepAlive,
      keepAliveMaxTimeout: timeouts.keepAlive,
      headersTimeout: timeouts.responseHeaders,
      bodyTimeout: timeouts.bodyIdle,
      connect,
      strictContentLength: true,
    })
  }

  /**
   * The dispatcher for a request of client `clientIp` that came in on `client`: the endpoint's shared
   * Pool, or, in a `proxyProtocol` pool, the Pool of that client connection (proxied-dispatchers.ts).
   */
  dispatcherFor(clientIp: string, client: Socket): UpstreamDispatcher {
    const proxied = this.#proxied
    if (proxied === undefined) return this.dispatcher
    return proxied.get(connectionKey(clientIp, client))
  }

  /**
   * Opens a connection to the endpoint as the pool's requests do (connect timeout, TLS settings, the
   * PROXY header for client `clientIp` on `client`), for an upgrade tunnel; `callback` gets the
   * connected socket or the error (undici's, as requests see them).
   */
  openConnection(callback: buildConnector.Callback, clientIp: string, client: Socket): void {
    const { hostname, host, protocol, port } = this.url
    const version = this.#proxyHeader
    const connector = version === undefined ? this.#connector : proxyHeaderConnector(this.#connector, encodeProxyHeader(version, clientConnection(clientIp, client)))
    connector({ hostname: hostname.startsWith('[') ? hostname.slice(1, -1) : hostname, host, protocol, port, localAddress: null }, callback)
  }

  /** The derived state. */
  get state(): EndpointState {
    return this.#state
  }

  get adminState(): AdminState {
    return this.#admin
  }

  get checkState(): CheckState {
    return this.#check
  }

  /** True when the endpoint may take new requests and new sessions. */
  get available(): boolean {
    return this.#state === 'healthy' && this.#check !== 'pending'
  }

  /** True when sessions already bound here may keep coming (healthy, or draining but not down). */
  get servesBoundSessions(): boolean {
    return this.available || (this.#state === 'draining' && this.#check !== 'unhealthy' && this.ejectedUntil === 0 && !this.#stalled)
  }

  /** True while passive health finds it answering nothing although requests wait on it. */
  get stalled(): boolean {
    return this.#stalled
  }

  /** True when this endpoint may take part in panic routing (anything but maintenance/removed). */
  get panicEligible(): boolean {
    return this.#admin === 'active' && this.#removalDeadline === 0
  }

  /** True when this endpoint has no free request slot. */
  get full(): boolean {
    return this.inflight >= this.maxRequests
  }

  /** When removed from the config or discovery: the time its drain ends; 0 otherwise. */
  get removalDeadline(): number {
    return this.#removalDeadline
  }

  /** Registers the one listener for state changes (the owning pool). */
  onStateChange(listener: StateListener): void {
    this.#listener = listener
  }

  /** Operator action (admin API, shared through Redis between replicas). */
  setAdminState(state: AdminState, reason = `admin: ${state}`): void {
    this.#change(reason, () => (this.#admin = state))
  }

  /** Active health verdict after the configured number of consecutive probes. */
  setCheckState(state: CheckState, reason: string): void {
    this.#change(reason, () => (this.#check = state))
  }

  /** Passive health ejection until `until` (ms since epoch), or 0 to readmit. */
  setEjectedUntil(until: number, reason: string): void {
    this.#change(reason, () => (this.ejectedUntil = until))
  }

  /** A response head arrived (hot path: one increment and one test); it ends a stall at once. */
  responded(): void {
    this.responses++
    if (this.#stalled) this.setStalled(false, 'passive health: answered again')
  }

  /** Stall detection's verdict (health/stall-detector.ts). */
  setStalled(stalled: boolean, reason: string): void {
    if (stalled === this.#stalled) return
    if (stalled) this.stalls++
    this.#change(reason, () => (this.#stalled = stalled))
  }

  /** Starts the removal drain (config reload or discovery dropped it). */
  beginRemoval(deadline: number, reason: string): void {
    this.#change(reason, () => (this.#removalDeadline = deadline))
  }

  /** Cancels a removal (the endpoint came back before its drain ended). */
  cancelRemoval(reason: string): void {
    this.#change(reason, () => (this.#removalDeadline = 0))
  }

  /** Closes idle connections and waits for in-flight requests on them (no-op once destroyed). */
  async close(): Promise<void> {
    await Promise.all([this.#proxied?.close(), this.dispatcher.destroyed ? undefined : this.dispatcher.close()])
  }

  /** Destroys every connection at once (shutdown deadline). */
  async destroy(): Promise<void> {
    await Promise.all([this.#proxied?.destroy(), this.dispatcher.destroyed ? undefined : this.dispatcher.destroy()])
  }

  #derive(): EndpointState {
    if (this.#admin === 'maintenance') return 'maintenance'
    if (this.#admin === 'draining' || this.#removalDeadline !== 0) return 'draining'
    if (this.#check === 'unhealthy' || this.ejectedUntil !== 0) return 'unhealthy'
    return this.#stalled ? 'stalled' : 'healthy'
  }

  /** Applies one input change; tells the listener when the state or the availability changed. */
  #change(reason: string, mutate: () => unknown): void {
    const from = this.#state
    const wasAvailable = this.available
    mutate()
    this.#state = this.#derive()
    if (from !== this.#state || wasAvailable !== this.available) this.#listener?.(this, from, this.#state, reason)
  }
}

/** A client connection as a map key: the PROXY header's four fields (`clientConnection`), space-separated. */
function connectionKey(clientIp: string, client: Socket): string {
  const { source, destination } = clientConnection(clientIp, client)
  return `${source.address} ${source.port} ${destination.address} ${destination.port}`
}

function parseConnectionKey(key: string): ProxiedConnection {
  const [source = '', sourcePort = '0', destination = '', destinationPort = '0'] = key.split(' ')
  return { source: { address: source, port: Number(sourcePort) }, destination: { address: destination, port: Number(destinationPort) } }
}
