/**
 * @module Composition root: builds the runtime, traffic listeners, upgrade tunnel, admin listener,
 * reloader and shutdown sequence from a config, and wires them together.
 */
import type { AdminListener } from './admin/admin-listener.js'
import { applyEndpointAction, snapshotPools, type EndpointActionRequest, type EndpointActionResult } from './admin/endpoint-actions.js'
import { splitRules } from './proxying/rule-target.js'
import { overview, storeStatus, type StoreStatus } from './admin/overview.js'
import { Readiness, type CheckOutcome } from './admin/readiness.js'
import { ReloadLog } from './admin/reload-log.js'
import { routeRows } from './admin/route-listing.js'
import { SecretRing } from './affinity/secret-ring.js'
import type { LoadedConfig } from './config/load.js'
import type { ShutdownConfig } from './config/schema.js'
import { ConfigReloader } from './lifecycle/config-reloader.js'
import { watchedFiles, type ReloadOutcome, type ReloadTrigger } from './lifecycle/reload-candidate.js'
import { ConfigWatcher } from './lifecycle/config-watcher.js'
import { drain, type DrainOutcome } from './lifecycle/graceful-shutdown.js'
import { newTrafficState } from './lifecycle/traffic-state.js'
import { ProxyError } from './errors/proxy-error.js'
import { formatAddress, type ListenAddress } from './net/address.js'
import { AccessLog } from './observability/access-log.js'
import { settleLogger, type Logger } from './observability/logger.js'
import type { Metrics } from './observability/metrics.js'
import { startSpanExport } from './observability/span-export.js'
import type { CountersByPool } from './observability/pool-counters.js'
import type { RuntimeHolder } from './proxying/handler.js'
import { buildRuntime, closeRuntime, startDiscovery, type ProxyRuntime, type RuntimeServices } from './proxying/runtime.js'
import { createUpgradeHandler, type TunnelRegistry } from './proxying/upgrade.js'
import { ListenerSet } from './server/listener-set.js'
import type { AffinityStore } from './stores/affinity-store.js'
import { EvictionReport } from './stores/eviction-report.js'
import { MemoryAffinityStore } from './stores/memory-store.js'
import type { RedisServices } from './replication/redis-services.js'
import type { RedisStoreConfig } from './config/store-schema.js'
import { warnAboutFileLimit } from './server/fd-limit.js'

/** A running proxy. */
export interface RunningProxy {
  /** Bound traffic addresses, in config order (real ports when 0 was configured). */
  readonly addresses: readonly ListenAddress[]
  /** Bound admin address; undefined when `admin.listen` is false. */
  readonly adminAddress: ListenAddress | undefined
  readonly runtime: ProxyRuntime
  /** What `/readyz` reports; graceful shutdown and later checks (Redis) use it. */
  readonly readiness: Readiness
  /** This instance's metrics; undefined when the admin listener (which serves them) is disabled. */
  readonly metrics: Metrics | undefined
  /** Applies an operator action to this process's pools (and shares it through Redis when configured). */
  endpointAction(request: EndpointActionRequest): EndpointActionResult
  /** The affinity store's status (`GET /overview`). */
  storeStatus(): StoreStatus
  /** The dashboard history's per-pool counters (empty without metrics). */
  counters(): Promise<CountersByPool>
  /** Reloads the config file, or `next` as its content, or a validated config (see lifecycle/config-reloader.ts); never rejects. */
  reload(trigger: ReloadTrigger, next?: string | LoadedConfig): Promise<ReloadOutcome>
  /**
   * Graceful shutdown (see lifecycle/graceful-shutdown.ts): fail readiness, keep accepting for
   * drainDelay, stop accepting, let in-flight work finish for drainTimeout, close everything.
   * `timing` overrides the configured delays (tests, second stage of a signal).
   */
  close(timing?: Partial<ShutdownConfig>): Promise<DrainOutcome>
}

/** Where the config came from: a file (reloadable) or the command line. */
export interface ProxySource {
  readonly file?: string | undefined
  /** Set in a worker process of `workers` > 1 (see cluster/worker.ts). */
  readonly worker?: WorkerRole | undefined
}

/**
 * How a worker process differs: its supervisor serves the admin API, watches the config file and
 * generated the shared secret; the in-memory affinity store is the supervisor's, shared over IPC.
 */
export interface WorkerRole {
  /** 1…N, stable across restarts of that worker (the `worker` label of its metrics). */
  readonly slot: number
  readonly generatedSecret: string
  /** Used wherever the config asks for the in-memory store. */
  readonly memoryStore: AffinityStore
}

/** Longest wait at start for Redis to share the signing secret. */
const SECRET_WAIT_MS = 3000

/** Starts serving `loaded`; rejects with a StartupError if a listener cannot be bound. */
export async function startProxy(loaded: LoadedConfig, logger: Logger, source: ProxySource = {}): Promise<RunningProxy> {
  const { config } = loaded
  const { worker } = source
  // The supervisor logs warnings once, for all its workers.
  if (worker === undefined) for (const warning of loaded.warnings) logger.warn(warning)
  if (worker === undefined) warnAboutFileLimit(config, logger)
  const ring = new SecretRing(config.sessionSecrets, worker?.generatedSecret)
  // The Redis side and the admin listener are loaded only by configs that use them (bench/RESULTS.md, footprint).
  const redis = config.store.type === 'redis' ? new (await import('./replication/redis-services.js')).RedisServices(config.store as RedisStoreConfig, logger) : undefined
  // The memory store is this process's, or in a worker the supervisor's (which reports its evictions);
  // with Redis, every process, workers included, uses Redis directly (see RedisServices).
  const evictions = redis === undefined && worker === undefined ? new EvictionReport(logger, config.store.maxEntries) : undefined
  const store = redis?.store ?? worker?.memoryStore ?? new MemoryAffinityStore({ maxEntries: config.store.maxEntries, onEvict: evictions?.evicted })
  if (redis !== undefined && config.sessionSecrets.length === 0) await redis.shareSecret(ring, Math.min(config.store.connectTimeout, SECRET_WAIT_MS))
  if (worker === undefined && redis === undefined) warnAboutGeneratedSecret(loaded, ring, logger)
  const readiness = new Readiness()
  if (redis !== undefined) readiness.addCheck('redis', () => redisReadiness(redis))
  // Metrics read the current pools only at scrape time, through the holder. A worker always keeps
  // them: its supervisor serves them, aggregated, when the admin listener is enabled.
  // Loaded only when served (prom-client is some 10 MB resident).
  const metrics = config.admin.listen === false && worker === undefined ? undefined : new (await import('./observability/metrics.js')).Metrics(() => holder.runtime.pools.values(), { worker: worker?.slot, rules: () => splitRules(holder.runtime) })
  if (redis !== undefined) metrics?.watchRedis(() => redis.connection.stats())
  if (evictions !== undefined) metrics?.watchStoreEvictions(evictions)
  // The OpenTelemetry SDK is loaded only when spans are exported (tracing.otlp).
  const spans = await startSpanExport(config.tracing, logger)
  const services: RuntimeServices = { accessLog: AccessLog.fromConfig(config.log), logger, ring, store, metrics, traffic: newTrafficState(), spans }
  const holder: RuntimeHolder = { runtime: buildRuntime(loaded, services) }
  const tunnels: TunnelRegistry = { sockets: new Set() }
  const listeners = new ListenerSet(holder, logger, createUpgradeHandler(holder, logger, tunnels), metrics)
  metrics?.watchCertificates(() => listeners.certificates())
  const watchListeners = (): void => metrics?.watchServers(listeners.servers.map((server, index) => ({ server, listener: formatAddress(listeners.addresses[index] as ListenAddress) })))
  const reloader = new ConfigReloader(
    {
      file: source.file,
      holder,
      services,
      listeners,
      ring,
      logger,
      onOutcome: (outcome, trigger) => {
        metrics?.configReloaded(outcome.ok)
        reloads.record(trigger, outcome)
        if (outcome.ok) {
          watchListeners()
          watcher?.sync()
        }
      },
    },
    loaded,
  )
  const file = source.file
  // A worker reloads when its supervisor says so (the supervisor watches the file).
  const watcher = file === undefined || !config.reload.watch || worker !== undefined ? undefined : new ConfigWatcher(() => watchedFiles(file, holder.runtime.loaded), () => void reloader.reload('file'), config.reload.debounce)
  let admin: AdminListener | undefined
  const reloads = new ReloadLog()
  const currentStore = (): StoreStatus => storeStatus(config.store, redis)
  const counters = async (): Promise<CountersByPool> => (await metrics?.poolCounters(holder.runtime.pools.values())) ?? {}
  const endpointAction = (request: EndpointActionRequest): EndpointActionResult => {
    const result = applyEndpointAction(holder.runtime.pools, request)
    redis?.adminActionApplied(result)
    return result
  }
  try {
    await redis?.shareAdminState(() => holder.runtime.pools)
    await startDiscovery(holder.runtime)
    await listeners.apply(config)
    if (config.admin.listen !== false && metrics !== undefined && worker === undefined) {
      const { startAdmin } = await import('./admin/admin-listener.js')
      admin = await startAdmin(config.admin.listen, {
        pools: () => snapshotPools(holder.runtime.pools), rules: () => splitRules(holder.runtime), endpointAction, readiness, metrics, token: config.admin.token, allowedHosts: config.admin.allowedHosts, logger, reload: () => reloader.reload('admin'),
        overview: () => overview({ workers: { configured: 1, serving: 1 }, listeners: listeners.addresses.map(formatAddress), configFile: source.file ?? null, reloads: reloads.records, store: currentStore() }),
        routes: () => routeRows(holder.runtime.loaded.routes),
        counters,
      })
    }
  } catch (error) {
    await listeners.close()
    await closeRuntime(holder.runtime)
    await (redis ?? store).close()
    throw error
  }
  watchListeners()
  watcher?.sync()
  readiness.setListening()
  if (worker === undefined) logger.info({ listen: listeners.addresses.map(formatAddress), admin: admin === undefined ? false : formatAddress(admin.address), pools: [...holder.runtime.pools.keys()], config: loaded.file }, 'latch is serving')
  else logger.info({ listen: listeners.addresses.map(formatAddress) }, 'worker serving')

  return {
    get addresses() {
      return listeners.addresses
    },
    adminAddress: admin?.address,
    get runtime() {
      return holder.runtime
    },
    readiness,
    metrics,
    reload: (trigger, next) => reloader.reload(trigger, next),
    endpointAction,
    storeStatus: currentStore,
    counters,
    async close(timing) {
      watcher?.stop()
      const runtime = holder.runtime
      const rejectQueued = (): void => {
        for (const pool of holder.runtime.pools.values()) pool.queue.rejectAll(new ProxyError('ERR_SHUTTING_DOWN', 'Latch reached its drain deadline before an endpoint slot became free', { retryAfter: 1 }))
      }
      const outcome = await drain({ servers: listeners.servers, tunnels, traffic: services.traffic, readiness, logger, rejectQueued }, { ...runtime.loaded.config.shutdown, ...timing })
      if (outcome === 'deadline') await Promise.all([...runtime.pools.values()].map((pool) => pool.destroy()))
      // The admin listener goes last, so /readyz reports "shutting down" until the very end.
      await admin?.close()
      await closeRuntime(runtime)
      await (redis ?? store).close()
      runtime.accessLog.flush()
      // Sends the spans still queued (each export is bounded by tracing.otlp.timeout).
      await spans?.shutdown()
      logger.info({ outcome }, 'latch stopped')
      // stdout is written asynchronously: exiting with a write in flight reorders or loses the last lines.
      await settleLogger(logger)
      return outcome
    },
  }
}

/** `/readyz` details of Redis; it fails readiness only with `failClosed`. */
function redisReadiness(redis: RedisServices): CheckOutcome {
  const health = redis.connection.health()
  return { ok: health.up || !redis.config.failClosed, detail: health.detail }
}

/** Signed-token modes with a generated secret work, but replicas will not recognise each other's tokens. */
function warnAboutGeneratedSecret(loaded: LoadedConfig, ring: SecretRing, logger: Logger): void {
  if (!ring.generated) return
  const pools = loaded.config.pools.filter((pool) => pool.affinity.mode === 'cookie' || pool.affinity.mode === 'header').map((pool) => pool.name)
  if (pools.length > 0) {
    logger.warn({ pools }, 'no sessionSecrets configured: generated a random secret; sessions will not be shared by other Latch replicas and will reset on restart (quick mode: --session-secret or LATCH_SESSION_SECRET)')
  }
}
