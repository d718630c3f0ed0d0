/**
 * @module Everything one Latch process keeps in Redis, built from `store: { type: redis }`: the
 * command connection (breaker, health), the pub/sub bus and the affinity store on top of them.
 */
import type { RedisStoreConfig } from '../config/store-schema.js'
import type { Logger } from '../observability/logger.js'
import { RedisBus } from '../replication/redis-bus.js'
import { RedisConnection } from './redis-connection.js'
import { RedisAffinityStore } from './redis-store.js'

/** The Redis side of one process; `close()` closes it all. */
export class RedisServices {
  readonly config: RedisStoreConfig
  readonly connection: RedisConnection
  readonly bus: RedisBus
  readonly store: RedisAffinityStore

  constructor(config: RedisStoreConfig, logger: Logger) {
    this.config = config
    this.connection = new RedisConnection(config, logger)
    this.bus = new RedisBus(config, this.connection, logger)
    this.store = new RedisAffinityStore(this.connection, config, this.bus)
  }

  async close(): Promise<void> {
    await this.store.close()
    await this.bus.close()
    await this.connection.close()
  }
}
