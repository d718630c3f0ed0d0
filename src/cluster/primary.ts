/**
 * @module The supervisor process of `workers` > 1: forks the workers, serves the admin API for all
 * of them, holds their shared in-memory affinity state, coordinates reloads and shutdown.
 *
 * Signals: SIGTERM/SIGINT drain every worker (each runs the single-process shutdown sequence) and
 * exit 0 once all have exited; a second one makes them exit at once. SIGHUP (and a config-file change,
 * and `POST /reload`) validates the config once and applies it in every worker.
 */
import { startAdmin, type AdminListener } from '../admin/admin-listener.js'
import { overview, type StoreStatus } from '../admin/overview.js'
import { Readiness } from '../admin/readiness.js'
import { ReloadLog } from '../admin/reload-log.js'
import type { RedisStoreConfig } from '../config/store-schema.js'
import { describeTarget } from '../stores/redis-client.js'
import { routeRows } from '../admin/route-listing.js'
import { randomSecret } from '../affinity/secret-ring.js'
import type { LoadedConfig } from '../config/load.js'
import { StartupError } from '../errors/startup-error.js'
import { watchedFiles } from '../lifecycle/reload-candidate.js'
import { ConfigWatcher } from '../lifecycle/config-watcher.js'
import { formatAddress } from '../net/address.js'
import { settleLogger, type Logger } from '../observability/logger.js'
import { EvictionReport } from '../stores/eviction-report.js'
import { IpcStoreServer } from '../stores/ipc-store-server.js'
import { ClusterAdmin } from './cluster-admin.js'
import { ClusterReloader } from './cluster-reload.js'
import { Supervisor } from './supervisor.js'
import { warnAboutFileLimit } from '../server/fd-limit.js'

/** Extra time beyond drainDelay + drainTimeout before workers that did not exit are killed. */
const EXIT_GRACE_MS = 5000
/** How long workers get to exit after a second signal. */
const IMMEDIATE_EXIT_MS = 2000

/** What the supervisor starts from. */
export interface PrimaryOptions {
  readonly loaded: LoadedConfig
  /** The config file's text that `loaded` was validated from; undefined in quick mode. */
  readonly text: string | undefined
  readonly file: string | undefined
  readonly workers: number
  readonly logger: Logger
}

/** Runs the supervisor until Latch stops; resolves with the exit code. */
export async function runPrimary(options: PrimaryOptions): Promise<number> {
  const { loaded, logger, file } = options
  const { config } = loaded
  for (const warning of loaded.warnings) logger.warn(warning)
  warnAboutFileLimit(config, logger)
  // One secret for every worker (used when none is configured): tokens issued by one verify in all.
  const generatedSecret = randomSecret()
  // With a Redis store, the workers take the secret shared through Redis instead.
  if (config.sessionSecrets.length === 0 && config.store.type === 'memory' && config.pools.some((pool) => pool.affinity.mode === 'cookie' || pool.affinity.mode === 'header')) {
    logger.warn('no sessionSecrets configured: generated a random secret, shared by this Latch\'s workers; sessions will not be shared by other Latch replicas and will reset on restart (quick mode: --session-secret or LATCH_SESSION_SECRET)')
  }
  let exit!: (code: number) => void
  const exited = new Promise<number>((resolve) => (exit = resolve))
  const readiness = new Readiness()
  const evictions = new EvictionReport(logger, config.store.maxEntries)
  const store = new IpcStoreServer((keys, except) => {
    for (const { worker, rpc } of supervisor.connected) if (worker.id !== except) rpc.notify('store.invalidate', keys)
  }, { maxEntries: config.store.maxEntries, onEvict: evictions.evicted })
  const supervisor: Supervisor = new Supervisor({
    count: options.workers,
    logger,
    handlers: (_slot, workerId) => ({
      hello: () => ({ configText: reloader.applied.text, generatedSecret, actions: admin.actions }),
      ...store.handlersFor(workerId),
    }),
    onRestart: () => admin.workerRestarted(),
    onCrashLoop: (message) => {
      logger.fatal({ code: 'WORKER_FAILED' }, message)
      void shutdown(1)
    },
  })
  const admin = new ClusterAdmin(supervisor, config.store.type === 'memory' ? evictions : undefined)
  readiness.addCheck('workers', admin.workersReady)
  const watcher: ConfigWatcher | undefined = file === undefined || !config.reload.watch ? undefined : new ConfigWatcher(() => watchedFiles(file, reloader.applied.loaded), () => void reloader.reload('file'), config.reload.debounce)
  const reloads = new ReloadLog()
  const reloader: ClusterReloader = new ClusterReloader(
    {
      file,
      workers: () => supervisor.live,
      logger,
      onOutcome: (outcome, trigger) => {
        admin.configReloaded(outcome.ok)
        reloads.record(trigger, outcome)
        if (outcome.ok) watcher?.sync()
      },
    },
    { loaded, text: options.text },
  )

  let adminListener: AdminListener | undefined
  let stopping = false
  const shutdown = async (code: number): Promise<void> => {
    if (stopping) return
    stopping = true
    readiness.setShuttingDown()
    watcher?.stop()
    const { drainDelay, drainTimeout } = reloader.applied.loaded.config.shutdown
    await supervisor.stop(false, drainDelay + drainTimeout + EXIT_GRACE_MS)
    // The admin listener goes last, so /readyz reports "shutting down" until the very end.
    await adminListener?.close()
    await store.close()
    logger.info('latch stopped')
    // stdout is written asynchronously: exiting with a write in flight reorders or loses the last lines.
    await settleLogger(logger)
    exit(code)
  }
  let signals = 0
  const onSignal = (signal: string): void => {
    if (++signals === 1) {
      logger.info({ signal, workers: supervisor.live.length }, 'shutting down gracefully')
      void shutdown(0)
      return
    }
    logger.warn({ signal }, 'second signal: exiting now without draining')
    void supervisor.stop(true, IMMEDIATE_EXIT_MS).then(() => exit(1))
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGHUP', () => void reloader.reload('signal'))

  let addresses
  try {
    // A signal during start-up stops the workers; then start() never completes.
    addresses = await Promise.race([supervisor.start(), exited.then(() => undefined)])
    if (addresses === undefined) return exited
    if (config.admin.listen !== false) {
      const listeners = addresses.map(formatAddress)
      const store = async (): Promise<StoreStatus> => {
        if (config.store.type === 'memory') return { type: 'memory', maxEntries: config.store.maxEntries }
        return (await admin.redisStatus()) ?? { type: 'redis', target: describeTarget(config.store as RedisStoreConfig), connected: false, breaker: 'open', detail: 'no worker is serving right now' }
      }
      adminListener = await startAdmin(config.admin.listen, {
        pools: admin.pools, rules: admin.rules, endpointAction: admin.endpointAction, readiness, metrics: admin, token: config.admin.token, allowedHosts: config.admin.allowedHosts, logger, reload: () => reloader.reload('admin'),
        overview: async () => overview({ workers: { configured: options.workers, serving: supervisor.live.length }, listeners, configFile: file ?? null, reloads: reloads.records, store: await store() }),
        routes: () => routeRows(reloader.applied.loaded.routes),
        counters: admin.counters,
      })
    }
  } catch (error) {
    if (!(error instanceof StartupError)) throw error
    logger.fatal({ code: error.code }, error.message)
    await supervisor.stop(true, IMMEDIATE_EXIT_MS)
    await store.close()
    return 1
  }
  if (stopping) return exited
  watcher?.sync()
  readiness.setListening()
  logger.info({ listen: addresses.map(formatAddress), admin: adminListener === undefined ? false : formatAddress(adminListener.address), workers: options.workers, pools: config.pools.map((pool) => pool.name), config: loaded.file }, 'latch is serving')
  return exited
}
