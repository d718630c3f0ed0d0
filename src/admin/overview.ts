/**
 * @module `GET /overview`: what this Latch is (version, uptime, workers, listeners, config file), the
 * last reloads, and the state of its affinity store.
 */
import { packageVersion } from '../cli/help.js'
import type { StoreConfig } from '../config/store-schema.js'
import type { BreakerState } from '../stores/circuit-breaker.js'
import type { RedisServices } from '../replication/redis-services.js'
import type { ReloadRecord } from './reload-log.js'

/** The affinity store as `/overview` shows it. */
export type StoreStatus =
  | { readonly type: 'memory'; readonly maxEntries: number }
  | { readonly type: 'redis'; readonly target: string; readonly connected: boolean; readonly breaker: BreakerState; readonly detail: string }

/** `GET /overview`. */
export interface Overview {
  readonly version: string
  readonly pid: number
  /** ISO 8601. */
  readonly startedAt: string
  readonly uptimeSeconds: number
  /** Worker processes: configured, and serving now (1 and 1 without `--workers`). */
  readonly workers: { readonly configured: number; readonly serving: number }
  /** Bound traffic listeners, e.g. `127.0.0.1:8080`. */
  readonly listeners: readonly string[]
  /** The config file, or null in quick mode (command line). */
  readonly configFile: string | null
  /** The last reloads, newest first (see reload-log.ts). */
  readonly reloads: readonly ReloadRecord[]
  readonly store: StoreStatus
}

/** The parts of an Overview that differ between a single process and a supervisor. */
export interface OverviewParts {
  readonly workers: Overview['workers']
  readonly listeners: readonly string[]
  readonly configFile: string | null
  readonly reloads: readonly ReloadRecord[]
  readonly store: StoreStatus
}

let version: string | undefined

/** Completes `parts` with what every process knows about itself. */
export function overview(parts: OverviewParts): Overview {
  version ??= packageVersion()
  const uptimeSeconds = Math.round(process.uptime())
  return { version, pid: process.pid, startedAt: new Date(Date.now() - process.uptime() * 1000).toISOString(), uptimeSeconds, ...parts }
}

/** The store's status: its type, and for Redis whether it answers and the circuit breaker's state. */
export function storeStatus(config: StoreConfig, redis: RedisServices | undefined): StoreStatus {
  if (redis === undefined) return { type: 'memory', maxEntries: config.maxEntries }
  const health = redis.connection.health()
  return { type: 'redis', target: redis.connection.target, connected: health.up, breaker: redis.connection.stats().breaker, detail: health.detail }
}
