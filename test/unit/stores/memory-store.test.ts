/**
 * The AffinityStore contract against the memory store (one process: both "replicas" are the same store).
 */
import { afterAll } from 'vitest'
import { MemoryAffinityStore } from '../../../src/stores/memory-store.js'
import { affinityStoreContract } from './affinity-store.contract.js'

const stores: MemoryAffinityStore[] = []
afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()))
})

affinityStoreContract('memory', async () => {
  const store = new MemoryAffinityStore()
  stores.push(store)
  return {
    a: store,
    b: store,
    async counts(_store, scope) {
      ;(_store as MemoryAffinityStore).sweep()
      return new Map(_store.sessionCounts(scope))
    },
  }
})
