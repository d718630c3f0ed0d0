/**
 * @module Prometheus metrics of one proxy instance, on a registry of its own, served at admin `/metrics`.
 *
 * Per request only RequestMetrics runs (an increment and an observe). Pool and endpoint families are
 * read from live counters at scrape time; connections are asked of the traffic servers; DNS
 * discovery and active health checks report their events through the methods below.
 */
import type { Server } from 'node:net'
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'
import type { FinishedRequest, RequestObserver } from '../proxying/runtime.js'
import type { DiscoveryObserver } from '../discovery/dns-discovery.js'
import type { HealthCheckObserver } from '../health/active-checker.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolObserver, UpstreamPool } from '../upstream/upstream-pool.js'
import { registerPoolMetrics } from './metrics-pools.js'
import { registerRuleMetrics } from './metrics-rules.js'
import type { RuleReport } from '../proxying/rule-target.js'
import { RequestBodyMetrics } from './metrics-request-bodies.js'
import { RequestMetrics } from './metrics-requests.js'
import { poolCounters, type CountersByPool } from './pool-counters.js'
import { registerRedisMetrics } from './metrics-redis.js'
import type { EvictionTotals } from '../stores/eviction-report.js'
import type { RedisStats } from '../stores/redis-connection.js'
import type { CertificateEvents } from '../tls/listener-certificates.js'
import type { ProxyProtocolEvents, ProxyRefusal } from '../server/proxy-protocol-gate.js'

/** A traffic listener whose open client connections are reported. */
export interface WatchedServer {
  readonly server: Server
  /** The bound address, e.g. `0.0.0.0:8080` (the `listener` label). */
  readonly listener: string
}

/** Certificates served per TLS listener (configured address → certificate file and expiry). */
export type ServedCertificates = Readonly<Record<string, readonly { readonly cert: string; readonly notAfter: string }[]>>

/** All metrics of one proxy instance. */
export class Metrics implements RequestObserver, PoolObserver, DiscoveryObserver, HealthCheckObserver, CertificateEvents, ProxyProtocolEvents {
  readonly registry = new Registry()
  readonly #requests: RequestMetrics
  readonly #bodies: RequestBodyMetrics
  readonly #dnsRefreshes: Counter<'pool'>
  readonly #dnsFailures: Counter<'pool'>
  readonly #reloads: Counter<'result'> | undefined
  readonly #healthChecks: Counter<'pool' | 'endpoint' | 'result'>
  readonly #certificateReloads: Counter<'listener' | 'result'>
  readonly #handshakeFailures: Counter<'listener' | 'reason'>
  readonly #proxyRefusals: Counter<'listener' | 'reason'>
  #servers: readonly WatchedServer[] = []
  #certificates: () => ServedCertificates = () => ({})

  /**
   * `pools` returns the current pools (read at each scrape, so a reload is followed). In a worker
   * process (`worker`: its slot), the supervisor aggregates every worker's registry (see
   * cluster/cluster-admin.ts) and counts reloads itself; each worker adds its own request total.
   */
  constructor(pools: () => Iterable<UpstreamPool>, options: MetricsOptions = {}) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.#requests = new RequestMetrics(this.registry)
    this.#bodies = new RequestBodyMetrics(this.registry)
    registerPoolMetrics(this.registry, pools)
    if (options.rules !== undefined) registerRuleMetrics(this.registry, options.rules)
    const withDiscovery = (): UpstreamPool[] => [...pools()].filter((pool) => pool.config.discovery !== undefined)
    // Series of pools with discovery or health checks exist from the start (at 0), so rate() works.
    this.#dnsRefreshes = new Counter({ name: 'latch_dns_refreshes_total', help: 'Successful DNS discovery resolutions by pool.', labelNames: ['pool'], registers, collect() { for (const pool of withDiscovery()) this.inc({ pool: pool.name }, 0) } })
    this.#dnsFailures = new Counter({ name: 'latch_dns_failures_total', help: 'Failed DNS discovery resolutions by pool (the previous endpoints are kept).', labelNames: ['pool'], registers, collect() { for (const pool of withDiscovery()) this.inc({ pool: pool.name }, 0) } })
    this.#healthChecks = new Counter({
      name: 'latch_health_checks_total', help: 'Active health check probes by pool, endpoint and result (success, failure).', labelNames: ['pool', 'endpoint', 'result'], registers,
      collect() {
        for (const pool of pools()) {
          if (pool.config.healthCheck === undefined) continue
          for (const endpoint of pool.endpoints) for (const result of ['success', 'failure']) this.inc({ pool: pool.name, endpoint: endpoint.id, result }, 0)
        }
      },
    })
    this.#reloads = options.worker === undefined ? reloadCounter(this.registry) : undefined
    if (options.worker !== undefined) {
      const worker = String(options.worker)
      const requests = this.#requests
      // Computed at scrape time from the request counts: nothing more on the hot path.
      new Counter({ name: 'latch_worker_requests_total', help: 'Finished client requests by worker process (workers > 1).', labelNames: ['worker'], registers, collect() {
        this.reset()
        this.inc({ worker }, requests.total())
      } })
    }
    this.#handshakeFailures = new Counter({ name: 'latch_tls_handshake_failures_total', help: 'Failed client TLS handshakes by listener (as configured) and reason (the error code, e.g. ERR_SSL_UNSUPPORTED_PROTOCOL for a client below minVersion, ECONNRESET for a client that hung up).', labelNames: ['listener', 'reason'], registers })
    this.#proxyRefusals = new Counter({ name: 'latch_proxy_protocol_refused_total', help: 'Connections a PROXY protocol listener closed unanswered, by listener (as configured) and reason: untrusted (source not in proxyProtocolFrom), missing (no header), malformed, truncated (closed or stalled mid-header), timeout (nothing sent in time).', labelNames: ['listener', 'reason'], registers })
    this.#certificateReloads = new Counter({ name: 'latch_tls_certificate_reloads_total', help: 'Certificate file reloads of TLS listeners by listener (as configured) and result (success, failure: the previous certificate kept serving).', labelNames: ['listener', 'result'], registers })
    const certificates = (): ServedCertificates => this.#certificates()
    new Gauge({ name: 'latch_tls_certificate_expiry_timestamp_seconds', help: 'When each certificate served by a TLS listener expires (Unix time), by listener and certificate file; alert well before it.', labelNames: ['listener', 'cert'], registers, aggregator: 'max', collect() {
      this.reset()
      for (const [listener, served] of Object.entries(certificates())) for (const { cert, notAfter } of served) this.set({ listener, cert }, Date.parse(notAfter) / 1000)
    } })
    const servers = (): readonly WatchedServer[] => this.#servers
    new Gauge({ name: 'latch_client_connections', help: 'Open client connections by traffic listener.', labelNames: ['listener'], registers, async collect() {
      this.reset()
      const counts = await Promise.all(servers().map(({ server }) => connectionsOf(server)))
      servers().forEach(({ listener }, index) => this.set({ listener }, counts[index] as number))
    } })
  }

  /** The Content-Type of `scrape()`'s text (Prometheus text format 0.0.4). */
  get contentType(): string {
    return this.registry.contentType
  }

  /** Renders every family in the Prometheus text format. */
  scrape(): Promise<string> {
    return this.registry.metrics()
  }

  /** Reports what the full memory store dropped (`latch_store_evictions_total`). */
  watchStoreEvictions(totals: EvictionTotals): void {
    storeEvictionCounter(this.registry, totals)
  }

  /** Reports the Redis store's state and counters (`latch_redis_*`). */
  watchRedis(stats: () => RedisStats): void {
    registerRedisMetrics(this.registry, stats)
  }

  /** Reports open connections of these traffic servers from now on. */
  watchServers(servers: readonly WatchedServer[]): void {
    this.#servers = servers
  }

  /** Reports the certificates of TLS listeners from now on (read at scrape time, so reloads are followed). */
  watchCertificates(certificates: () => ServedCertificates): void {
    this.#certificates = certificates
  }

  /** The dashboard history's counters of `pools` (see pool-counters.ts). */
  async poolCounters(pools: Iterable<UpstreamPool>): Promise<CountersByPool> {
    return poolCounters(pools, await this.#requests.durationBuckets())
  }

  requestFinished(request: FinishedRequest): void {
    this.#requests.record(request)
    // Per-endpoint p50/p99 for `/pools` and the dashboard (endpoint-latency.ts: no allocation, about 130 instructions).
    request.endpoint?.latency.record(request.durationMs)
    this.#bodies.record(request)
  }

  dnsRefreshed(pool: string): void {
    this.#dnsRefreshes.inc({ pool })
  }

  /** Counts one config reload. */
  configReloaded(ok: boolean): void {
    this.#reloads?.inc({ result: ok ? 'success' : 'failure' })
  }

  /** Counts one reload of a changed certificate file of a TLS listener. */
  certificateReloaded(listener: string, ok: boolean): void {
    this.#certificateReloads.inc({ listener, result: ok ? 'success' : 'failure' })
  }

  /** Counts one failed client TLS handshake. */
  handshakeFailed(listener: string, reason: string): void {
    this.#handshakeFailures.inc({ listener, reason })
  }

  /** Counts one connection refused by a PROXY protocol listener. */
  proxyHeaderRefused(listener: string, reason: ProxyRefusal): void {
    this.#proxyRefusals.inc({ listener, reason })
  }

  dnsFailed(pool: string): void {
    this.#dnsFailures.inc({ pool })
  }

  healthChecked(pool: string, endpoint: string, ok: boolean): void {
    this.#healthChecks.inc({ pool, endpoint, result: ok ? 'success' : 'failure' })
  }

  // PoolObserver: everything else is read at scrape time; only removals need action (forget series).
  endpointRemoved(pool: UpstreamPool, endpoint: Endpoint): void {
    this.#requests.forget(pool.name, endpoint.id)
    for (const result of ['success', 'failure']) this.#healthChecks.remove({ pool: pool.name, endpoint: endpoint.id, result })
  }

  endpointStateChanged(): void {}
  endpointEjected(): void {}
  ejectionSkipped(): void {}
  panicChanged(): void {}
  endpointAdded(): void {}
}

/** Options of Metrics. */
export interface MetricsOptions {
  /** The worker's slot (1…N) in a worker process. */
  readonly worker?: number | undefined
  /** The current split rules' reports (read at each scrape): requests and live sessions per rule and backend. */
  readonly rules?: (() => readonly RuleReport[]) | undefined
}

/** `latch_store_evictions_total`, read from `totals` at scrape time (the single process's store, or the supervisor's). */
export function storeEvictionCounter(registry: Registry, totals: EvictionTotals): void {
  new Counter({ name: 'latch_store_evictions_total', help: 'Entries the memory affinity store dropped because it held store.maxEntries, by kind: binding (its client gets a new pick) or session (it only leaves the live-session counts).', labelNames: ['kind'], registers: [registry], collect() {
    this.reset()
    this.inc({ kind: 'binding' }, totals.binding)
    this.inc({ kind: 'session' }, totals.session)
  } })
}

/** `latch_config_reloads_total`, with both series at 0 from the start. */
export function reloadCounter(registry: Registry): Counter<'result'> {
  const counter = new Counter({ name: 'latch_config_reloads_total', help: 'Config reloads by result (success, failure: the previous config kept serving).', labelNames: ['result'], registers: [registry] })
  counter.inc({ result: 'success' }, 0)
  counter.inc({ result: 'failure' }, 0)
  return counter
}

function connectionsOf(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error === null ? count : 0)))
}
