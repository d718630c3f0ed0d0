/**
 * @module A worker process of `workers` > 1: serves traffic like a single Latch, but takes its config
 * text, shared secret, reloads, shutdown and admin actions from the supervisor (cluster/supervisor.ts)
 * and keeps in-memory affinity state in the supervisor (stores/ipc-store.ts).
 */
import { applyEndpointAction, snapshotPools } from '../admin/endpoint-actions.js'
import { loadConfigFile, type LoadedConfig } from '../config/load.js'
import { ConfigError } from '../errors/config-error.js'
import { StartupError } from '../errors/startup-error.js'
import type { Logger } from '../observability/logger.js'
import { splitRules } from '../proxying/rule-target.js'
import type { RunningProxy } from '../proxy.js'
import { IpcAffinityStore } from '../stores/ipc-store.js'
import type { SupervisorOps, WorkerOps } from './protocol.js'
import { RemoteError, RpcChannel } from './rpc.js'

/** How the worker builds its config and logger (the CLI's rules: file or quick mode, flag overrides). */
export interface WorkerSetup {
  readonly slot: number
  /** The config file; undefined in quick mode. */
  readonly file: string | undefined
  /** Applies the command line's overrides (access log) to a loaded config; quick mode builds it. */
  readonly configure: (loaded: LoadedConfig | undefined) => LoadedConfig
  readonly logger: (loaded: LoadedConfig) => Logger
}

/** Runs the worker until it is told to stop; resolves with its exit code. */
export async function runWorker(setup: WorkerSetup): Promise<number> {
  let proxy: RunningProxy | undefined
  let exit!: (code: number) => void
  const exited = new Promise<number>((resolve) => (exit = resolve))
  const running = (): RunningProxy => {
    if (proxy === undefined) throw new RemoteError('WORKER_STARTING', `worker ${setup.slot} is still starting`)
    return proxy
  }
  let stopping = false
  const stop = (): void => {
    if (stopping) return
    stopping = true
    // Before the proxy runs, the stop happens as soon as it does (below).
    if (proxy !== undefined) void proxy.close().then(() => exit(0))
  }
  const exitNow = (): void => {
    process.exitCode = 1
    setImmediate(() => process.exit(1))
  }
  const rpc: RpcChannel<SupervisorOps, WorkerOps> = new RpcChannel<SupervisorOps, WorkerOps>(
    (message) => {
      // The callback keeps a closed channel from raising an 'error' event: the supervisor is gone,
      // and Node ends this process on 'disconnect' anyway.
      process.send?.(message, undefined, {}, () => undefined)
    },
    {
      reload: ({ trigger, text }) => running().reload(trigger, text),
      pools: () => snapshotPools(running().runtime.pools),
      rules: () => splitRules(running().runtime),
      action: (request) => running().endpointAction(request),
      readiness: () => running().readiness.report(),
      metrics: async () => (await running().metrics?.registry.getMetricsAsJSON()) ?? [],
      counters: () => running().counters(),
      store: () => running().storeStatus(),
      shutdown: ({ now }) => {
        if (now) exitNow()
        else stop()
        return null
      },
      'store.invalidate': (keys) => {
        store.invalidate(keys)
        return null
      },
    },
  )
  const store: IpcAffinityStore = new IpcAffinityStore(rpc)
  process.on('message', (message) => rpc.receive(message))
  // Signals sent to the whole process group (Ctrl-C in a terminal) reach workers too: the first one
  // is the same graceful stop the supervisor asks for, a second one exits at once.
  let signals = 0
  const onSignal = (): void => {
    if (++signals > 1) exitNow()
    else stop()
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  // Reloads go through the supervisor, which validates once for every worker. (Without a handler,
  // a SIGHUP sent to the process group would kill the worker.)
  process.on('SIGHUP', () => undefined)

  const init = await rpc.request('hello', null, 10_000)
  let loaded: LoadedConfig
  try {
    loaded = setup.configure(setup.file === undefined ? undefined : loadConfigFile(setup.file, process.env, init.configText))
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${error.message}\nlatch: worker ${setup.slot}: refusing to start with an invalid config\n`)
    return 1
  }
  const logger = setup.logger(loaded).child({ worker: setup.slot })
  try {
    const { startProxy } = await import('../proxy.js')
    proxy = await startProxy(loaded, logger, { file: setup.file, worker: { slot: setup.slot, generatedSecret: init.generatedSecret, memoryStore: store } })
  } catch (error) {
    if (!(error instanceof StartupError)) throw error
    logger.fatal({ code: error.code }, error.message)
    return 1
  }
  for (const action of init.actions) {
    try {
      applyEndpointAction(proxy.runtime.pools, action)
    } catch {
      // The endpoint or pool is gone since (removed by a reload): nothing to replay.
    }
  }
  if (stopping) void proxy.close().then(() => exit(0))
  else rpc.notify('ready', { addresses: proxy.addresses })
  return exited
}
