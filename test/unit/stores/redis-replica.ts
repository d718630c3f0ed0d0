/**
 * @module One simulated Latch replica's Redis store for the contract runners (single Redis and Redis
 * Cluster): its own connection, pub/sub bus and store, as the process builds them, without the
 * replication services on top.
 */
import { Store, type RedisStoreConfig } from '../../../src/config/store-schema.js'
import { createLogger } from '../../../src/observability/logger.js'
import { RedisBus } from '../../../src/stores/redis-bus.js'
import { RedisConnection } from '../../../src/stores/redis-connection.js'
import { RedisAffinityStore } from '../../../src/stores/redis-store.js'
import { waitFor } from '../../helpers/wait.js'

/** Connects a store configured by `store` (a `store:` config block); `closers` gets what closes it. */
export async function redisReplica(store: Record<string, unknown>, closers: (() => Promise<void>)[]): Promise<RedisAffinityStore> {
  const config = Store.parse({ type: 'redis', ...store }) as RedisStoreConfig
  const logger = createLogger('silent')
  const connection = new RedisConnection(config, logger)
  const bus = new RedisBus(config, connection, logger)
  const replica = new RedisAffinityStore(connection, config, bus)
  closers.push(async () => {
    await replica.close()
    await bus.close()
    await connection.close()
  })
  await waitFor(() => connection.available, 10_000, 10, 'the Redis store to connect')
  return replica
}
