/**
 * @module The AffinityStore contract, run against every implementation (memory-store.test.ts,
 * ipc-store.test.ts, redis-store.test.ts, redis-cluster-store.test.ts). A "replica" is one store
 * instance: the memory store has one for all, the IPC store one per simulated worker (one supervisor
 * side for all), the Redis store one per simulated Latch replica, all on one real redis-server.
 */
import { describe, expect, it } from 'vitest'
import type { AffinityStore, Binding } from '../../../src/stores/affinity-store.js'
import { waitFor } from '../../helpers/wait.js'

/** What a runner provides: two replicas on one shared state, and how to read settled session counts. */
export interface StoreUnderTest {
  readonly a: AffinityStore
  readonly b: AffinityStore
  /** Live-session counts of `scope` as `store` reports them once background work has settled. */
  counts(store: AffinityStore, scope: string): Promise<ReadonlyMap<string, number>>
}

/**
 * Command timeout of the Redis runners: the contract is about what the store guarantees while Redis
 * answers, on a machine shared with other test runs where 400 racing claims can take longer than the
 * default 75 ms (a late command falls back to local state by design; the fault tests cover that).
 */
export const CONTRACT_TIMEOUT = '1s'

let unique = 0
/** A key no other test uses (tests share one Redis). */
const key = (mode = 'ip'): string => `pool-${process.pid}-${++unique}:${mode}:client`

/** Runs the contract; `name` tells apart implementations of one kind (the memory kind's IPC store). */
export function affinityStoreContract(kind: 'memory' | 'redis', setUp: () => Promise<StoreUnderTest>, name: string = kind): void {
  describe(`AffinityStore contract: ${name}`, () => {
    it('reports its kind', async () => {
      const { a } = await setUp()
      expect(a.kind).toBe(kind)
    })

    it('has no binding for an unknown key', async () => {
      const { a } = await setUp()
      expect(await a.get(key())).toBeUndefined()
    })

    it('claims a key, and every replica reads the binding with its expiry', async () => {
      const { a, b } = await setUp()
      const k = key()
      const before = Date.now()
      const claimed = await a.claim(k, '10.0.0.1:80', 60_000)
      expect(claimed.endpointId).toBe('10.0.0.1:80')
      expect(claimed.expiresAt).toBeGreaterThanOrEqual(before + 60_000)
      expect(claimed.expiresAt).toBeLessThanOrEqual(Date.now() + 60_000)
      for (const replica of [a, b]) expect(await replica.get(k)).toEqual(claimed)
    })

    it('first binding wins: a later claim resolves to the binding in force', async () => {
      const { a, b } = await setUp()
      const k = key()
      await a.claim(k, 'first:80', 60_000)
      expect((await b.claim(k, 'second:80', 60_000)).endpointId).toBe('first:80')
      expect((await a.claim(k, 'third:80', 60_000)).endpointId).toBe('first:80')
    })

    it('simultaneous claims of many keys by two replicas converge on one endpoint per key', async () => {
      const { a, b } = await setUp()
      const keys = Array.from({ length: 200 }, () => key())
      const results = await Promise.all(keys.flatMap((k) => [a.claim(k, 'a:80', 60_000), b.claim(k, 'b:80', 60_000)]))
      for (let i = 0; i < keys.length; i++) expect((results[2 * i] as Binding).endpointId).toBe((results[2 * i + 1] as Binding).endpointId)
      for (const k of keys.slice(0, 20)) expect((await b.get(k))?.endpointId).toBe((await a.get(k))?.endpointId)
    })

    it('rebind moves a binding only from the expected endpoint (compare-and-set)', async () => {
      const { a, b } = await setUp()
      const k = key()
      await a.claim(k, 'old:80', 60_000)
      expect((await a.rebind(k, 'new:80', 60_000, 'other:80')).endpointId).toBe('old:80')
      expect((await a.rebind(k, 'new:80', 60_000, 'old:80')).endpointId).toBe('new:80')
      // A replica that saw the same failure later moves it nowhere else.
      expect((await b.rebind(k, 'elsewhere:80', 60_000, 'old:80')).endpointId).toBe('new:80')
      await waitFor(async () => (await b.get(k))?.endpointId === 'new:80', 3000, 20, 'the rebind to reach replica b')
    })

    it('rebind of an absent key binds it', async () => {
      const { a } = await setUp()
      const k = key()
      expect((await a.rebind(k, 'new:80', 60_000, 'gone:80')).endpointId).toBe('new:80')
      expect((await a.get(k))?.endpointId).toBe('new:80')
    })

    it('simultaneous rebinds after one failure converge on one new endpoint', async () => {
      const { a, b } = await setUp()
      const keys = Array.from({ length: 50 }, () => key())
      await Promise.all(keys.map((k) => a.claim(k, 'failed:80', 60_000)))
      const results = await Promise.all(keys.flatMap((k) => [a.rebind(k, 'x:80', 60_000, 'failed:80'), b.rebind(k, 'y:80', 60_000, 'failed:80')]))
      for (let i = 0; i < keys.length; i++) {
        const winner = (results[2 * i] as Binding).endpointId
        expect(['x:80', 'y:80']).toContain(winner)
        expect((results[2 * i + 1] as Binding).endpointId).toBe(winner)
      }
    })

    it('every binding lapses after its TTL', async () => {
      const { a, b } = await setUp()
      const k = key()
      await a.claim(k, 'short:80', 200)
      await waitFor(async () => (await a.get(k)) === undefined && (await b.get(k)) === undefined, 3000, 50, 'the binding to lapse')
      // Lapsed: a new claim binds anew.
      expect((await b.claim(k, 'next:80', 60_000)).endpointId).toBe('next:80')
    })

    it('refresh extends a binding on the same endpoint (sliding lifetime)', async () => {
      const { a, b } = await setUp()
      const k = key()
      await a.claim(k, 'slide:80', 400)
      await a.get(k)
      a.refresh(k, 60_000)
      await waitFor(async () => ((await b.get(k))?.expiresAt ?? 0) > Date.now() + 30_000, 3000, 50, 'the refreshed expiry')
      await new Promise((resolve) => setTimeout(resolve, 600))
      expect((await b.get(k))?.endpointId).toBe('slide:80')
    })

    it('keys are namespaced: the same session id in another pool or mode is another binding', async () => {
      const { a } = await setUp()
      const id = `shared-${process.pid}-${++unique}`
      await a.claim(`p1:ip:${id}`, 'p1:80', 60_000)
      await a.claim(`p2:ip:${id}`, 'p2:80', 60_000)
      await a.claim(`p1:learn:${id}`, 'p1-learn:80', 60_000)
      expect((await a.get(`p1:ip:${id}`))?.endpointId).toBe('p1:80')
      expect((await a.get(`p2:ip:${id}`))?.endpointId).toBe('p2:80')
      expect((await a.get(`p1:learn:${id}`))?.endpointId).toBe('p1-learn:80')
    })

    it('counts live sessions per endpoint across replicas, follows moves and drops expired ones', async () => {
      const setup = await setUp()
      const { a, b } = setup
      const scope = `pool-${process.pid}-${++unique}:cookie`
      a.touchSession(scope, 's1', 'e1:80', 60_000)
      a.touchSession(scope, 's2', 'e1:80', 60_000)
      b.touchSession(scope, 's3', 'e2:80', 60_000)
      b.touchSession(scope, 's4', 'e2:80', 300)
      const all = await setup.counts(a, scope)
      expect(Object.fromEntries(all)).toEqual({ 'e1:80': 2, 'e2:80': 2 })
      // s2 moves to e2 (a rebind); s4 expires.
      b.touchSession(scope, 's2', 'e2:80', 60_000)
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(Object.fromEntries(await setup.counts(b, scope))).toEqual({ 'e1:80': 1, 'e2:80': 2 })
    })
  })
}
