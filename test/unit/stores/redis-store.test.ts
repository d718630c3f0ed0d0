/**
 * The AffinityStore contract against the Redis store: two store instances ("replicas") on one real
 * redis-server started by the test (never mocked), with default settings (local cache on) except a
 * generous command timeout (see CONTRACT_TIMEOUT).
 */
import { afterAll, beforeAll } from 'vitest'
import type { AffinityStore } from '../../../src/stores/affinity-store.js'
import type { RedisAffinityStore } from '../../../src/stores/redis-store.js'
import { startRedis, stopAllRedis, type RedisServer } from '../../helpers/redis-server.js'
import { affinityStoreContract, CONTRACT_TIMEOUT } from './affinity-store.contract.js'
import { redisReplica } from './redis-replica.js'

let redis: RedisServer
const closers: (() => Promise<void>)[] = []
beforeAll(async () => {
  redis = await startRedis()
})
afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
  await stopAllRedis()
})

const replica = (): Promise<RedisAffinityStore> => redisReplica({ url: redis.url, commandTimeout: CONTRACT_TIMEOUT }, closers)

affinityStoreContract('redis', async () => ({
  a: await replica(),
  b: await replica(),
  async counts(store: AffinityStore, scope: string) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    return new Map(await (store as RedisAffinityStore).refreshCounts(scope))
  },
}))
