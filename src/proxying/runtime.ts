/**
 * @module The compiled, per-config state every request reads: router, pools and header rules.
 *
 * Built once per (re)load. Requests read it through a holder, so a reload swaps one reference and
 * requests already in flight finish on the runtime they started with.
 */
import type { SecretRing } from '../affinity/secret-ring.js'
import type { SessionAffinity } from '../affinity/session-affinity.js'
import type { LoadedConfig } from '../config/load.js'
import type { PoolConfig } from '../config/schema.js'
import { DnsDiscovery, type DiscoveryObserver } from '../discovery/dns-discovery.js'
import { ActiveHealthChecker, type HealthCheckObserver } from '../health/active-checker.js'
import type { TrafficState } from '../lifecycle/traffic-state.js'
import type { AffinityStore } from '../stores/affinity-store.js'
import { TrustedNetworks } from '../net/trusted-networks.js'
import type { AccessLog } from '../observability/access-log.js'
import type { AccessRecord } from '../observability/access-record.js'
import type { Logger } from '../observability/logger.js'
import type { SpanRecorder } from '../observability/span-export.js'
import { tracingEnabled } from '../config/tracing-schema.js'
import { fanOut, poolLogObserver } from '../observability/pool-log.js'
import { Router } from '../routing/router.js'
import type { Endpoint } from '../upstream/endpoint.js'
import { sameSettings, UpstreamPool, type EndpointWatcher, type PoolObserver } from '../upstream/upstream-pool.js'
import { poolTarget, type PoolTarget } from './pool-target.js'
import { RuleCounters } from './rule-counters.js'
import { ruleTarget, type RuleTarget } from './rule-target.js'
import { compileRequestBodyPolicy, type RequestBodyPolicy } from './request-body-policy.js'
import type { HeaderRules } from './request-headers.js'

/** Receives every finished request once (metrics). Must be cheap: it runs on the hot path. */
export interface RequestObserver {
  requestFinished(exchange: FinishedRequest): void
}

/** What a finished request exposes to observers. */
export interface FinishedRequest extends AccessRecord {
  readonly pool: UpstreamPool | undefined
  /** The pool's affinity, when it has one. */
  readonly affinity: SessionAffinity | undefined
  readonly endpoint: Endpoint | undefined
  /** Bytes of the body read before dispatch (0: none), and whether that was the whole body. */
  readonly bufferedBytes: number
  readonly bodyBufferedWhole: boolean
}

/** Everything the request path needs, compiled from one config. */
export interface ProxyRuntime {
  readonly loaded: LoadedConfig
  readonly router: Router<RuleTarget>
  /** Every rule target the router resolves to, once each (admin API, metrics: requests and sessions per rule and backend). */
  readonly rules: readonly RuleTarget[]
  /** Requests per rule and backend, handed from runtime to runtime so counts survive reloads. */
  readonly ruleCounters: RuleCounters
  readonly pools: ReadonlyMap<string, UpstreamPool>
  /** Each pool with its affinity, by pool name (what routes resolve to). */
  readonly targets: ReadonlyMap<string, PoolTarget>
  readonly headerRules: HeaderRules
  /** Server-wide default request body limit, in bytes. */
  readonly maxBodySize: number
  /** How request bodies are buffered and watched (`server.requestBody`). */
  readonly requestBody: RequestBodyPolicy
  readonly accessLog: AccessLog
  readonly logger: Logger
  /** Metrics; `undefined` when nothing observes requests. */
  readonly requests: RequestObserver | undefined
  readonly traffic: TrafficState
  /** Span export (`tracing.otlp`); undefined when spans are not exported. */
  readonly spans: SpanRecorder | undefined
  /** DNS discovery of each pool that has a `discovery` section, by pool name (started by startDiscovery). */
  readonly discoveries: ReadonlyMap<string, DnsDiscovery>
}

/** Process-wide services a runtime uses; they outlive any one config (reloads keep them). */
export interface RuntimeServices {
  readonly accessLog: AccessLog
  readonly logger: Logger
  /** Secrets signing affinity tokens. */
  readonly ring: SecretRing
  /** Where affinity bindings and live sessions are kept. */
  readonly store: AffinityStore
  /** Draining flag and in-flight count, shared by every runtime of the process. */
  readonly traffic: TrafficState
  /** Metrics: see every finished request, every pool event and every DNS discovery round; undefined when disabled. */
  readonly metrics?: (RequestObserver & PoolObserver & DiscoveryObserver & HealthCheckObserver) | undefined
  /** Span export, started at launch when `tracing.otlp` is set. */
  readonly spans?: SpanRecorder | undefined
}

/**
 * Compiles a loaded config into a runtime: pools (and their connection pools), router, header rules.
 * On reload, `previous` is the runtime being replaced: a pool whose settings did not change is kept
 * as it is (connections, health, ejections, queue, in-flight requests; only its endpoint list is
 * synced), a changed pool is rebuilt but takes over the endpoints whose connection settings did not
 * change. Affinity bindings live in the store and tokens name endpoints by id, so sessions survive
 * either way; nothing here depends on routes, so a route change never resets affinity.
 */
export function buildRuntime(loaded: LoadedConfig, services: RuntimeServices, previous?: ProxyRuntime): ProxyRuntime {
  const { config } = loaded
  const { accessLog, logger, ring, store, metrics, traffic } = services
  const observer = metrics === undefined ? poolLogObserver(logger) : fanOut([poolLogObserver(logger), metrics])
  const targetFor = (pool: PoolConfig): PoolTarget => {
    const old = previous?.targets.get(pool.name)
    if (old !== undefined && sameSettings(old.pool.config, pool)) {
      // Same settings, affinity included: the pool and its affinity are kept as they are.
      old.pool.reconfigure(pool)
      return old
    }
    const created = new UpstreamPool(pool, observer, { ...healthChecking(pool, logger, metrics), ...(old === undefined ? {} : { adoptFrom: old.pool }) })
    return poolTarget(created, { ring, store })
  }
  const targets = new Map(config.pools.map((pool) => [pool.name, targetFor(pool)]))
  const pools = new Map([...targets].map(([name, target]) => [name, target.pool]))
  const ruleCounters = previous?.ruleCounters ?? new RuleCounters()
  const rules: RuleTarget[] = []
  const router = new Router(loaded.routes, (action) => {
    const rule = ruleTarget(action, targets, { ring, store, counters: ruleCounters })
    rules.push(rule)
    return rule
  })
  const headerRules: HeaderRules = {
    trusted: config.trustedProxies.length === 0 ? undefined : new TrustedNetworks(config.trustedProxies),
    xForwarded: config.headers.xForwarded,
    forwarded: config.headers.forwarded,
    via: config.headers.via,
    requestIdHeader: config.headers.requestId.toLowerCase(),
    maxHeadersCount: config.server.maxHeadersCount,
    tracing: tracingEnabled(config.tracing) ? { startTraces: config.tracing.startTraces, sampleRatio: config.tracing.sampleRatio } : undefined,
  }
  const discoveries = new Map<string, DnsDiscovery>()
  for (const pool of pools.values()) {
    if (pool.config.discovery === undefined) continue
    const kept = previous?.pools.get(pool.name) === pool ? previous.discoveries.get(pool.name) : undefined
    discoveries.set(pool.name, kept ?? new DnsDiscovery(pool, pool.config.discovery, { logger, observer: metrics }))
  }
  return { loaded, router, rules, ruleCounters, pools, targets, headerRules, maxBodySize: config.server.maxBodySize, requestBody: compileRequestBodyPolicy(config.server.requestBody), accessLog, logger, requests: metrics, traffic, spans: headerRules.tracing === undefined ? undefined : services.spans, discoveries }
}

/** Pool options that start an active health checker when the pool has `healthCheck`; none otherwise. */
function healthChecking(pool: PoolConfig, logger: Logger, metrics: RuntimeServices['metrics']): { watcher?: (pool: UpstreamPool) => EndpointWatcher } {
  const check = pool.healthCheck
  if (check === undefined) return {}
  return {
    watcher: (created) =>
      new ActiveHealthChecker(check, {
        logger: logger.child({ pool: created.name }),
        tls: pool.tls,
        proxyProtocol: pool.proxyProtocol,
        ...(metrics === undefined ? {} : { onResult: (endpoint: Endpoint, ok: boolean) => metrics.healthChecked(created.name, endpoint.id, ok) }),
      }),
  }
}

/**
 * Starts DNS discovery (the discoveries a reload kept are running already); resolves once every new
 * pool's first resolution is done (found or failed).
 */
export async function startDiscovery(runtime: ProxyRuntime, previous?: ProxyRuntime): Promise<void> {
  const running = new Set(previous?.discoveries.values() ?? [])
  await Promise.all([...runtime.discoveries.values()].filter((discovery) => !running.has(discovery)).map((discovery) => discovery.start()))
}

/** After a reload swapped `next` in: stops what `previous` had that `next` did not keep. */
export function retireReplaced(previous: ProxyRuntime, next: ProxyRuntime): void {
  const keptDiscoveries = new Set(next.discoveries.values())
  for (const discovery of previous.discoveries.values()) if (!keptDiscoveries.has(discovery)) discovery.stop()
  const keptPools = new Set(next.pools.values())
  for (const pool of previous.pools.values()) if (!keptPools.has(pool)) pool.retire()
}

/** Stops discovery and closes every pool's upstream connections. */
export async function closeRuntime(runtime: ProxyRuntime): Promise<void> {
  for (const discovery of runtime.discoveries.values()) discovery.stop()
  await Promise.all([...runtime.pools.values()].map((pool) => pool.close()))
}
