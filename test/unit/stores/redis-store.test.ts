/**
 * The AffinityStore contract against the Redis store: two store instances ("replicas") on one real
 * redis-server started by the test (never mocked), with default settings (local cache on) except a
 * generous command timeout (see CONTRACT_TIMEOUT).
 */
import { afterAll, beforeAll } from 'vitest'
import { Store, type RedisStoreConfig } from '../../../src/config/store-schema.js'
import { createLogger } from '../../../src/observability/logger.js'
import { RedisBus } from '../../../src/replication/redis-bus.js'
import type { AffinityStore } from '../../../src/stores/affinity-store.js'
import { RedisConnection } from '../../../src/stores/redis-connection.js'
import { RedisAffinityStore } from '../../../src/stores/redis-store.js'
import { startRedis, stopAllRedis, type RedisServer } from '../../helpers/redis-server.js'
import { waitFor } from '../../helpers/wait.js'
import { affinityStoreContract, CONTRACT_TIMEOUT } from './affinity-store.contract.js'

let redis: RedisServer
const closers: (() => Promise<void>)[] = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
  await stopAllRedis()
})

async function replica(): Promise<RedisAffinityStore> {
  const config = Store.parse({ type: 'redis', url: redis.url, commandTimeout: CONTRACT_TIMEOUT }) as RedisStoreConfig
  const logger = createLogger('silent')
  const connection = new RedisConnection(config, logger)
  const bus = new RedisBus(config, connection, logger)
  const store = new RedisAffinityStore(connection, config, bus)
  closers.push(async () => {
    await store.close()
    await bus.close()
    await connection.close()
  })
  await waitFor(() => connection.available, 5000, 10, 'the Redis store to connect')
  return store
}

affinityStoreContract('redis', async () => ({
  a: await replica(),
  b: await replica(),
  async counts(store: AffinityStore, scope: string) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    return new Map(await (store as RedisAffinityStore).refreshCounts(scope))
  },
}))
