/**
 * @module The programmatic API (the package's only entry point): load and validate a config, start
 * a proxy in this process, reload it, act on endpoints, read pool state, drain and close it.
 *
 * Everything else in the package is internal. This module only adapts what the `latch` command
 * uses (config/load.ts, proxy.ts) to an embedder: no signal handlers, no process exit, logs where
 * the caller says. `workers` does not apply here: the proxy serves from the calling process.
 * Its public types come from leaf modules only, so a program compiling against it loads only them.
 */
import { snapshotPools } from './admin/endpoint-actions.js'
import type { EndpointSnapshot, PoolSnapshot } from './admin/snapshot-shapes.js'
import { loadConfigFile, validateConfig, type LoadedConfig } from './config/load.js'
import type { Config, ConfigInput } from './config/schema.js'
import { ConfigError } from './errors/config-error.js'
import type { DrainOutcome, ReloadOutcome } from './lifecycle/outcomes.js'
import type { ListenAddress } from './net/address.js'
import { createLogger } from './observability/logger.js'
import { startProxy, type RunningProxy } from './proxy.js'

export { ConfigError }
export type { ConfigErrorCode, ConfigIssue } from './errors/config-error.js'
export type { LatencyReading } from './observability/endpoint-latency.js'
export { StartupError, type StartupErrorCode } from './errors/startup-error.js'
export type { Config, ConfigInput, DrainOutcome, EndpointSnapshot, ListenAddress, PoolSnapshot, ReloadOutcome }

/** A validated config, ready to start. */
export interface LatchConfig {
  /** The name its messages start with: the file path as given, or the `label` of a config object. */
  readonly file: string
  /** Every setting, defaults filled in, durations in milliseconds. */
  readonly config: Config
  /** Accepted but worth telling the operator (logged when it starts). */
  readonly warnings: readonly string[]
}

/** Where a config comes from: a YAML/JSON file path, an object shaped like that file, or one loadConfig returned. */
export type ConfigSource = string | ConfigInput | LatchConfig

/** How a config is read. */
export interface LoadOptions {
  /** `${VAR}` values come from here; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv
  /** For a config object: what relative file paths in it (`routes`, TLS files) are resolved against; default the working directory. */
  readonly baseDir?: string
  /** For a config object: the name its error messages start with; default "config". */
  readonly label?: string
}

/** How `startLatch` reads the config and logs. */
export interface StartOptions extends LoadOptions {
  /** Level of the process log; default the config's `log.level`. `silent` turns it off. */
  readonly logLevel?: Config['log']['level']
  /** Where the process log (JSON lines) goes; default stdout. The access log follows `log.access`. */
  readonly logDestination?: NodeJS.WritableStream
}

/** What can be done to an endpoint, as the admin API's `POST /pools/{pool}/endpoints/{endpoint}/{action}` does. */
export type EndpointAction = 'drain' | 'undrain' | 'maintenance'

/** Overrides of the config's `shutdown` timing, in milliseconds. */
export interface DrainTiming {
  readonly drainDelay?: number
  readonly drainTimeout?: number
}

/** A proxy running in this process. */
export interface Latch {
  /** Bound traffic addresses, in config order (the real port where 0 was configured). */
  readonly addresses: readonly ListenAddress[]
  /** Bound admin address; undefined when `admin.listen` is false. */
  readonly adminAddress: ListenAddress | undefined
  /** Every pool and endpoint with its live state, as the admin API's `GET /pools` shows them. */
  pools(): PoolSnapshot[]
  /**
   * Hot reload; never rejects. Without an argument it reads the file the proxy started from again;
   * with a config it validates and applies that. An invalid config is refused (`ok: false`, with
   * every problem) and the running one keeps serving.
   */
  reload(next?: ConfigSource): Promise<ReloadOutcome>
  /** Drains, undrains or puts an endpoint (`host:port`) in maintenance; returns it as it is now. Throws for an unknown pool or endpoint. */
  endpointAction(pool: string, endpoint: string, action: EndpointAction): EndpointSnapshot
  /**
   * Graceful shutdown, as on SIGTERM: readiness fails, listeners keep accepting for `drainDelay`,
   * then stop; in-flight requests and WebSockets get `drainTimeout`. Resolves once all is closed.
   */
  drain(timing?: DrainTiming): Promise<DrainOutcome>
  /** Stops now: closes the listeners and every connection, requests in flight included (after drain(), waits for it). */
  close(): Promise<void>
}

/** The full configs behind the LatchConfig values loadConfig returned. */
const loadedConfigs = new WeakMap<object, LoadedConfig>()

/** Loads and validates a config; throws a ConfigError listing every problem (`file: key.path: message`). */
export function loadConfig(source: ConfigSource, options: LoadOptions = {}): LatchConfig {
  return load(source, options)
}

/**
 * Validates `source` and starts serving it; resolves once every listener is bound. Throws a
 * ConfigError for an invalid config and a StartupError when a listener cannot be bound.
 */
export async function startLatch(source: ConfigSource, options: StartOptions = {}): Promise<Latch> {
  const loaded = load(source, options)
  const logger = createLogger(options.logLevel ?? loaded.config.log.level, options.logDestination)
  const file = typeof source === 'string' ? source : undefined
  const proxy = await startProxy(loaded, logger, { file })
  return embedded(proxy, file, options)
}

function load(source: ConfigSource, options: LoadOptions): LoadedConfig {
  if (typeof source !== 'string') {
    const known = loadedConfigs.get(source)
    if (known !== undefined) return known
  }
  const env = options.env ?? process.env
  const loaded = typeof source === 'string' ? loadConfigFile(source, env) : validateConfig(source, { file: options.label ?? 'config', baseDir: options.baseDir ?? process.cwd(), env })
  loadedConfigs.set(loaded, loaded)
  return loaded
}

function embedded(proxy: RunningProxy, file: string | undefined, options: LoadOptions): Latch {
  let stopping: Promise<DrainOutcome> | undefined
  return {
    get addresses() {
      return proxy.addresses
    },
    adminAddress: proxy.adminAddress,
    pools: () => snapshotPools(proxy.runtime.pools),
    async reload(next) {
      if (next === undefined) {
        if (file !== undefined) return proxy.reload('api')
        return { ok: false, code: 'NO_CONFIG_FILE', message: 'this proxy was started from a config object: pass the new config to reload()', issues: [] }
      }
      let loaded: LoadedConfig
      try {
        loaded = load(next, options)
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error
        return { ok: false, code: 'CONFIG_INVALID', message: `config rejected, the previous config keeps serving:\n${error.message}`, issues: error.issues }
      }
      return proxy.reload('api', loaded)
    },
    endpointAction: (pool, endpoint, action) => proxy.endpointAction({ pool, endpoint, action }).endpoint,
    // One shutdown per proxy: a later drain() or close() waits for the one under way.
    drain(timing = {}) {
      stopping ??= proxy.close(definedOnly(timing))
      return stopping
    },
    async close() {
      stopping ??= proxy.close({ drainDelay: 0, drainTimeout: 0 })
      await stopping
    },
  }
}

/** `{ drainDelay: undefined }` must not override the config's value. */
function definedOnly(timing: DrainTiming): { drainDelay?: number; drainTimeout?: number } {
  return Object.fromEntries(Object.entries(timing).filter(([, value]) => value !== undefined))
}
