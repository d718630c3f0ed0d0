/**
 * The AffinityStore contract against a real Redis Cluster (three masters started by the test, slots
 * spread by `redis-cli --cluster create`), configured with `store.cluster` seed nodes only.
 */
import { afterAll, beforeAll } from 'vitest'
import { Store, type RedisStoreConfig } from '../../../src/config/store-schema.js'
import { createLogger } from '../../../src/observability/logger.js'
import type { AffinityStore } from '../../../src/stores/affinity-store.js'
import { RedisServices } from '../../../src/stores/redis-services.js'
import type { RedisAffinityStore } from '../../../src/stores/redis-store.js'
import { startRedisCluster, stopAllRedis, type RedisServer } from '../../helpers/redis-server.js'
import { waitFor } from '../../helpers/wait.js'
import { affinityStoreContract, CONTRACT_TIMEOUT } from './affinity-store.contract.js'

let nodes: RedisServer[]
const started: RedisServices[] = []
beforeAll(async () => {
  nodes = await startRedisCluster(3)
}, 40_000)
afterAll(async () => {
  await Promise.all(started.map((services) => services.close()))
  await stopAllRedis()
})

async function replica(): Promise<RedisAffinityStore> {
  const config = Store.parse({ type: 'redis', cluster: nodes.slice(0, 1).map((node) => `127.0.0.1:${node.port}`), commandTimeout: CONTRACT_TIMEOUT }) as RedisStoreConfig
  const services = new RedisServices(config, createLogger('silent'))
  started.push(services)
  await waitFor(() => services.connection.available, 10_000, 20, 'the cluster store to connect')
  return services.store
}

affinityStoreContract('redis', async () => ({
  a: await replica(),
  b: await replica(),
  async counts(store: AffinityStore, scope: string) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    return new Map(await (store as RedisAffinityStore).refreshCounts(scope))
  },
}))
