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
import type { Agent as HttpsAgent } from 'node:https'
import type { Dispatcher, Pool as UndiciPool } from 'undici'
import { upgradeAgent, upstreamConnector } from '../tls/upstream-tls.js'
import type { PoolConfig } from '../config/schema.js'
import { hashString } from './id-hash.js'
import { endpointIdOf } from './endpoint-id.js'
import type { AdminState, CheckState, EndpointSource, EndpointState } from './endpoint-states.js'
import { Pool } from './undici-parts.js'
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
  readonly dispatcher: UndiciPool
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
  readonly #pool: PoolConfig
  #upgradeAgent: HttpsAgent | undefined

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
    this.#pool = pool
    const { timeouts } = pool
    this.dispatcher = new (this.url.protocol === 'https:' ? TlsPool : Pool)(this.url.origin, {
      connections: this.maxRequests,
      pipelining: 1,
      keepAliveTimeout: timeouts.keepAlive,
      keepAliveMaxTimeout: timeouts.keepAlive,
      headersTimeout: timeouts.responseHeaders,
      bodyTimeout: timeouts.bodyIdle,
      connect: upstreamConnector(pool.tls, timeouts.connect),
      strictContentLength: true,
    })
  }

  /** The agent upgrade tunnels to this endpoint use: the pool's TLS settings for `https://`; undefined for cleartext. */
  get upgradeAgent(): HttpsAgent | undefined {
    if (this.url.protocol !== 'https:') return undefined
    return (this.#upgradeAgent ??= upgradeAgent(this.#pool.tls, this.url))
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
    this.#upgradeAgent?.destroy()
    if (!this.dispatcher.destroyed) await this.dispatcher.close()
  }

  /** Destroys every connection at once (shutdown deadline). */
  async destroy(): Promise<void> {
    if (!this.dispatcher.destroyed) await this.dispatcher.destroy()
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
