/**
 * @module Pub/sub between Latch replicas through Redis, on channels under the store's key prefix.
 *
 * Subscriptions live on a connection of their own (a subscribed connection can do nothing else);
 * ioredis re-subscribes after a reconnect. Messages are best-effort: whatever depends on them also
 * heals by itself (short cache TTLs, the periodic admin-state reconcile).
 */
import type { RedisStoreConfig } from '../config/store-schema.js'
import type { Logger } from '../observability/logger.js'
import { createRedisClient, type RedisClient } from './redis-client.js'
import type { RedisConnection } from './redis-connection.js'

/** Publishes through the command connection and dispatches subscribed channels. */
export class RedisBus {
  readonly #prefix: string
  readonly #connection: RedisConnection
  readonly #subscriber: RedisClient
  readonly #handlers = new Map<string, (message: string) => void>()
  readonly #reconnectHooks: (() => void)[] = []
  #connectedOnce = false

  constructor(config: RedisStoreConfig, connection: RedisConnection, logger: Logger) {
    this.#prefix = config.keyPrefix
    this.#connection = connection
    this.#subscriber = createRedisClient(config, 'events')
    // Problems are logged by the command connection; this one only retries.
    this.#subscriber.on('error', (error: Error) => logger.debug({ err: error.message }, 'redis event connection error'))
    this.#subscriber.on('message', (channel: string, message: string) => this.#handlers.get(channel)?.(message))
    this.#subscriber.on('ready', () => {
      if (this.#connectedOnce) for (const hook of this.#reconnectHooks) hook()
      this.#connectedOnce = true
    })
  }

  /** Calls `handler` with every message on `name` (a channel under the key prefix). */
  subscribe(name: string, handler: (message: string) => void): void {
    const channel = this.#prefix + name
    this.#handlers.set(channel, handler)
    this.#subscriber.subscribe(channel).catch(() => undefined)
  }

  /** Runs `hook` when the subscription connection is back after a loss: messages may have been missed. */
  onReconnect(hook: () => void): void {
    this.#reconnectHooks.push(hook)
  }

  /** Publishes `message` on `name`; resolves false when Redis could not take it. */
  publish(name: string, message: string): Promise<boolean> {
    return this.#connection.run((redis) => redis.publish(this.#prefix + name, message)).then(
      () => true,
      () => false,
    )
  }

  async close(): Promise<void> {
    this.#handlers.clear()
    this.#subscriber.disconnect()
  }
}
