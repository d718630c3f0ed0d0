/**
 * @module Active health checks: probes each endpoint of a pool on a timer and flips its check state.
 *
 * Each watched endpoint is probed at once, then every `interval` ± `jitter` (measured from the start
 * of the previous probe, never overlapping it). HAProxy's `fall`/`rise`: a usable endpoint goes
 * unhealthy after `unhealthyThreshold` consecutive failures and comes back after `healthyThreshold`
 * consecutive passes. An endpoint added later (state `pending`) is judged by its first probe alone:
 * it takes no traffic before a pass, and a first failure marks it unhealthy. Flips are logged by the
 * pool's observer; single probes only at debug level.
 */
import type { SecureClientSessionOptions } from 'node:http2'
import type { Agent } from 'undici'
import { encodeProxyHeader, type ProxyHeaderVersion } from '../net/proxy-protocol-encoder.js'
import { proxyHeaderConnector } from '../upstream/proxy-header-connector.js'
import type { ActiveHealthCheckConfig } from '../config/schema.js'
import type { UpstreamTlsConfig } from '../config/tls-schema.js'
import { h2TlsOptions, upstreamConnector } from '../tls/upstream-tls.js'
import type { Logger } from '../observability/logger.js'
import type { Endpoint, ProbeResult } from '../upstream/endpoint.js'
import { loadUndici } from '../upstream/undici-parts.js'
import type { EndpointWatcher } from '../upstream/upstream-pool.js'
import { runGrpcProbe } from './grpc-probe.js'
import { compileProbe, probeTarget, runProbe, type ProbeSpec, type ProbeTarget } from './probe.js'

/** Per-endpoint probing state. */
interface Watch {
  readonly target: ProbeTarget
  /** gRPC probes of an `https://` endpoint: its TLS options. */
  readonly tls: SecureClientSessionOptions | undefined
  passes: number
  failures: number
  timer: NodeJS.Timeout | undefined
  controller: AbortController | undefined
}

/** Options for tests and wiring. */
/** What the active health checker reports, one call per probe (metrics implements it). */
export interface HealthCheckObserver {
  healthChecked(pool: string, endpoint: string, ok: boolean): void
}

export interface ActiveHealthCheckerOptions {
  /** Receives one debug line per probe. */
  readonly logger?: Logger
  /** Source of randomness for the jitter (tests pass a fixed one). */
  readonly random?: () => number
  /** Told every probe's outcome (metrics). */
  readonly onResult?: (endpoint: Endpoint, ok: boolean) => void
  /** The pool's TLS settings: probes of `https://` endpoints connect exactly like proxied requests. */
  readonly tls?: UpstreamTlsConfig | undefined
  /**
   * The pool's `proxyProtocol`: probes then start with a header that names no client (v1 `UNKNOWN`,
   * v2 `LOCAL`, the command the specification has for health checks), as HAProxy's checks of
   * `send-proxy` servers do, so endpoints that require the header accept them.
   */
  readonly proxyProtocol?: 'off' | ProxyHeaderVersion
}

/** The delay before the next probe: `interval` moved by up to ±`jitter` × `interval`. */
export function nextProbeDelay(intervalMs: number, jitter: number, random: () => number = Math.random): number {
  return Math.max(0, Math.round(intervalMs * (1 + jitter * (2 * random() - 1))))
}

/** Probes the endpoints of one pool; the pool calls `watch`/`unwatch` as endpoints come and go. */
export class ActiveHealthChecker implements EndpointWatcher {
  readonly #config: ActiveHealthCheckConfig
  readonly #spec: ProbeSpec
  readonly #logger: Logger | undefined
  readonly #random: () => number
  readonly #onResult: ((endpoint: Endpoint, ok: boolean) => void) | undefined
  // Probes never share connections or slots with proxied requests (see probe.ts).
  readonly #agent: Agent | undefined
  readonly #tls: UpstreamTlsConfig | undefined
  readonly #watches = new Map<Endpoint, Watch>()
  #stopped = false

  constructor(config: ActiveHealthCheckConfig, options: ActiveHealthCheckerOptions = {}) {
    this.#config = config
    this.#spec = compileProbe(config)
    this.#logger = options.logger
    this.#random = options.random ?? Math.random
    this.#onResult = options.onResult
    // All of undici (with its request API), loaded only by pools that run active checks.
    this.#tls = options.tls
    const version = options.proxyProtocol ?? 'off'
    const connect = upstreamConnector(options.tls, config.timeout)
    this.#agent = this.#spec.grpcService !== undefined ? undefined : new (loadUndici().Agent)({ pipelining: 1, connect: version === 'off' ? connect : proxyHeaderConnector(connect, encodeProxyHeader(version, undefined)), headersTimeout: config.timeout, bodyTimeout: config.timeout })
  }

  /** Starts probing `endpoint` (first probe now). */
  watch(endpoint: Endpoint): void {
    if (this.#stopped || this.#watches.has(endpoint)) return
    const tls = this.#spec.grpcService !== undefined && endpoint.url.protocol === 'https:' ? h2TlsOptions(this.#tls, endpoint.url) : undefined
    const watch: Watch = { target: probeTarget(this.#spec, endpoint), tls, passes: 0, failures: 0, timer: undefined, controller: undefined }
    this.#watches.set(endpoint, watch)
    void this.#probe(endpoint, watch)
  }

  /** Stops probing `endpoint`, cancelling a probe in flight. */
  unwatch(endpoint: Endpoint): void {
    const watch = this.#watches.get(endpoint)
    if (watch === undefined) return
    this.#watches.delete(endpoint)
    cancel(watch)
  }

  /** Stops every probe and closes the checker's connections. */
  stop(): void {
    this.#stopped = true
    for (const watch of this.#watches.values()) cancel(watch)
    this.#watches.clear()
    this.#agent?.destroy().catch(() => undefined)
  }

  async #probe(endpoint: Endpoint, watch: Watch): Promise<void> {
    watch.timer = undefined
    const startedAt = Date.now()
    const delay = nextProbeDelay(this.#config.interval, this.#config.jitter, this.#random)
    const controller = new AbortController()
    watch.controller = controller
    const result = this.#agent === undefined ? await runGrpcProbe(this.#spec, watch.target, watch.tls, controller) : await runProbe(this.#agent, this.#spec, watch.target, controller)
    // Unwatched or stopped while the probe ran: its result no longer concerns anyone.
    if (this.#watches.get(endpoint) !== watch || controller !== watch.controller) return
    watch.controller = undefined
    endpoint.lastProbe = result
    this.#onResult?.(endpoint, result.ok)
    this.#logger?.debug({ endpoint: endpoint.id, ok: result.ok, status: result.status, error: result.error, durationMs: result.durationMs }, 'health probe')
    watch.timer = setTimeout(() => void this.#probe(endpoint, watch), Math.max(0, startedAt + delay - Date.now()))
    watch.timer.unref()
    this.#judge(endpoint, watch, result)
  }

  /** Applies one probe result to the consecutive counts and, at a threshold, to the endpoint. */
  #judge(endpoint: Endpoint, watch: Watch, result: ProbeResult): void {
    const state = endpoint.checkState
    if (result.ok) {
      watch.passes++
      watch.failures = 0
      if (state === 'pending') endpoint.setCheckState('healthy', 'health check: first probe passed')
      else if (state === 'unknown') endpoint.setCheckState('healthy', 'health check: probe passed')
      else if (state === 'unhealthy' && watch.passes >= this.#config.healthyThreshold) endpoint.setCheckState('healthy', `health check: ${watch.passes} consecutive passes`)
      return
    }
    watch.failures++
    watch.passes = 0
    if (state === 'pending') endpoint.setCheckState('unhealthy', `health check: first probe failed (${result.error})`)
    else if (state !== 'unhealthy' && watch.failures >= this.#config.unhealthyThreshold) endpoint.setCheckState('unhealthy', `health check: ${watch.failures} consecutive failures (${result.error})`)
  }
}

function cancel(watch: Watch): void {
  clearTimeout(watch.timer)
  watch.timer = undefined
  watch.controller?.abort()
  watch.controller = undefined
}
