/**
 * @module Builds the ioredis client of a `store: { type: redis }` config: one server (`url`), Sentinel
 * (`sentinels` + `name`) or Cluster (`cluster`), with Latch's fault settings.
 *
 * Fault settings: RedisConnection times every command (`commandTimeout`); there is no offline queue (a command while
 * disconnected fails at once instead of waiting); a command in flight when the connection drops is
 * not retried; reconnects go on forever with exponential backoff and jitter.
 */
import { createRequire } from 'node:module'
import { isIP } from 'node:net'
import type { Cluster, Redis } from 'ioredis'
import { redact, type RedisStoreConfig } from '../config/store-schema.js'

/** The commands Latch uses, common to a single Redis and a Cluster. */
export interface RedisCommands {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>
  get(key: string): Promise<string | null>
  hgetall(key: string): Promise<Record<string, string>>
  publish(channel: string, message: string): Promise<number>
}

/** A connected (or connecting) client, single or Cluster. */
export type RedisClient = Redis | Cluster

/** Reconnect delay of attempt `n` (1, 2, …): min · 2^(n-1), capped at max, minus up to half of it at random. */
export function reconnectDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt - 1, 30))
  return Math.max(1, Math.round(base - (base / 2) * random()))
}

/** What the config connects to, for logs and `/readyz` (no password). */
export function describeTarget(config: RedisStoreConfig): string {
  if (config.sentinels !== undefined) return `sentinel master "${config.name ?? ''}" via ${config.sentinels.join(', ')}`
  if (config.cluster !== undefined) return `cluster ${config.cluster.join(', ')}`
  return redact(config.url ?? '')
}

/**
 * ioredis, loaded on first use: most configs have no Redis store, and the client library is some 20 MB of
 * resident memory (bench/RESULTS.md, footprint).
 */
function loadIoredis(): typeof import('ioredis') {
  return createRequire(import.meta.url)('ioredis') as typeof import('ioredis')
}

/** A new client for `config`; `purpose` names its connection (`CLIENT SETNAME`). */
export function createRedisClient(config: RedisStoreConfig, purpose: 'commands' | 'events'): RedisClient {
  const { Cluster, Redis } = loadIoredis()
  const { minDelay, maxDelay } = config.reconnect
  const forCommands = purpose === 'commands'
  const common = {
    connectionName: `latch-${purpose}`,
    connectTimeout: config.connectTimeout,
    // Commands fail at once while disconnected; the event connection may queue its SUBSCRIBE.
    enableOfflineQueue: !forCommands,
    maxRetriesPerRequest: forCommands ? 0 : null,
    enableAutoPipelining: forCommands,
    // A server that stops answering (SIGSTOP, a silent partition) while commands wait: drop the socket
    // and reconnect, so unanswered commands do not pile up in the client.
    ...(forCommands ? { socketTimeout: Math.max(1000, 20 * config.commandTimeout) } : {}),
    retryStrategy: (attempt: number) => reconnectDelay(attempt, minDelay, maxDelay),
    // A failover that made our server a replica: reconnect (Sentinel then finds the new master).
    reconnectOnError: (error: Error) => error.message.startsWith('READONLY'),
    ...(config.username === undefined ? {} : { username: config.username }),
    ...(config.password === undefined ? {} : { password: config.password }),
    ...(config.db === undefined ? {} : { db: config.db }),
    ...(config.tls === true ? { tls: {} } : {}),
  }
  if (config.cluster !== undefined) {
    const { retryStrategy: _retry, enableOfflineQueue, enableAutoPipelining, ...redisOptions } = common
    const options = {
      clusterRetryStrategy: (attempt: number) => reconnectDelay(attempt, minDelay, maxDelay),
      enableOfflineQueue,
      enableAutoPipelining,
      redisOptions,
    }
    return new Cluster(config.cluster.map(parseHostPort), options)
  }
  if (config.sentinels !== undefined) {
    return new Redis({
      ...common,
      sentinels: config.sentinels.map(parseHostPort),
      name: config.name as string,
      sentinelRetryStrategy: (attempt: number) => reconnectDelay(attempt, minDelay, maxDelay),
      failoverDetector: true,
      ...(config.sentinelPassword === undefined ? {} : { sentinelPassword: config.sentinelPassword }),
    })
  }
  const url = new URL(config.url as string)
  return new Redis({
    ...common,
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? 6379 : Number(url.port),
    ...(url.username === '' || config.username !== undefined ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' || config.password !== undefined ? {} : { password: decodeURIComponent(url.password) }),
    ...(url.pathname.length > 1 && config.db === undefined ? { db: Number(url.pathname.slice(1)) } : {}),
    // SNI carries host names only, never an IP address.
    ...(url.protocol === 'rediss:' || config.tls === true ? { tls: isIP(url.hostname.replace(/^\[|\]$/g, '')) === 0 ? { servername: url.hostname } : {} } : {}),
  })
}

function parseHostPort(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  return { host: address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(address.slice(colon + 1)) }
}
