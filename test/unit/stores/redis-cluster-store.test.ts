/**
 * The AffinityStore contract against a real Redis Cluster (three masters started by the test, slots
 * spread by `redis-cli --cluster create`), configured with `store.cluster` seed nodes only.
 */
import { afterAll, beforeAll } from 'vitest'
import type { AffinityStore } from '../../../src/stores/affinity-store.js'
import type { RedisAffinityStore } from '../../../src/stores/redis-store.js'
import { startRedisCluster, stopAllRedis, type RedisServer } from '../../helpers/redis-server.js'
import { affinityStoreContract, CONTRACT_TIMEOUT } from './affinity-store.contract.js'
import { redisReplica } from './redis-replica.js'

let nodes: RedisServer[]
const closers: (() => Promise<void>)[] = []
beforeAll(async () => {
  nodes = await startRedisCluster(3)
}, 40_000)
afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
  await stopAllRedis()
})

const replica = (): Promise<RedisAffinityStore> => redisReplica({ cluster: nodes.slice(0, 1).map((node) => `127.0.0.1:${node.port}`), commandTimeout: CONTRACT_TIMEOUT }, closers)

affinityStoreContract('redis', async () => ({
  a: await replica(),
  b: await replica(),
  async counts(store: AffinityStore, scope: string) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    return new Map(await (store as RedisAffinityStore).refreshCounts(scope))
  },
}))
