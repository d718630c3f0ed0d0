/**
 * The memory store: the AffinityStore contract (one process: both "replicas" are the same store),
 * then what is particular to it — its injectable clock, expiry on read and its periodic sweep.
 */
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryAffinityStore, type EvictedKind, type MemoryStoreOptions } from '../../../src/stores/memory-store.js'
import { affinityStoreContract } from './affinity-store.contract.js'

const contractStores: MemoryAffinityStore[] = []
afterAll(async () => {
  await Promise.all(contractStores.map((store) => store.close()))
})

affinityStoreContract('memory', async () => {
  const store = new MemoryAffinityStore()
  contractStores.push(store)
  return {
    a: store,
    b: store,
    async counts(_store, scope) {
      ;(_store as MemoryAffinityStore).sweep()
      return new Map(_store.sessionCounts(scope))
    },
  }
})

/** A store on a clock the test moves. */
function storeAt(start = 1_000_000, options: MemoryStoreOptions = {}): { store: MemoryAffinityStore; advance: (ms: number) => void } {
  let now = start
  const store = new MemoryAffinityStore({ ...options, now: () => now })
  stores.push(store)
  return { store, advance: (ms) => (now += ms) }
}
const stores: MemoryAffinityStore[] = []
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()))
})

describe('MemoryAffinityStore', () => {
  it('claim: the first binding wins, later claims get it back', () => {
    const { store } = storeAt()
    expect(store.claim('web:ip:1', 'a:1', 1000)).toEqual({ endpointId: 'a:1', expiresAt: 1_001_000 })
    expect(store.claim('web:ip:1', 'b:1', 1000).endpointId).toBe('a:1')
    expect(store.get('web:ip:1')?.endpointId).toBe('a:1')
    expect(store.get('web:ip:2')).toBeUndefined()
  })

  it('rebind moves a binding only from the expected endpoint (every replica moves it to the same place)', () => {
    const { store } = storeAt()
    store.claim('k', 'a:1', 1000)
    expect(store.rebind('k', 'b:1', 1000, 'a:1').endpointId).toBe('b:1')
    // A second replica that also saw a:1 fail does not move it again.
    expect(store.rebind('k', 'c:1', 1000, 'a:1').endpointId).toBe('b:1')
    expect(store.get('k')?.endpointId).toBe('b:1')
    // Absent (expired meanwhile): the rebind creates it.
    expect(store.rebind('fresh', 'c:1', 1000, 'a:1').endpointId).toBe('c:1')
  })

  it('expires bindings at their TTL; refresh slides the TTL from now', () => {
    const { store, advance } = storeAt()
    store.claim('idle', 'a:1', 1000)
    store.claim('active', 'a:1', 1000)
    advance(600)
    store.refresh('active', 1000)
    advance(600)
    expect(store.get('idle')).toBeUndefined()
    expect(store.get('active')).toEqual({ endpointId: 'a:1', expiresAt: 1_001_600 })
    advance(1000)
    expect(store.get('active')).toBeUndefined()
    store.refresh('active', 1000)
    expect(store.get('active')).toBeUndefined()
    // An expired key can be claimed anew, by anyone.
    expect(store.claim('idle', 'b:1', 1000).endpointId).toBe('b:1')
  })

  it('counts live sessions per endpoint and scope; a session that moves is counted once, where it is now', () => {
    const { store } = storeAt()
    store.touchSession('web:cookie', 's1', 'a:1', 1000)
    store.touchSession('web:cookie', 's2', 'a:1', 1000)
    store.touchSession('web:cookie', 's3', 'b:1', 1000)
    store.touchSession('api:cookie', 's1', 'a:1', 1000)
    store.touchSession('web:cookie', 's1', 'a:1', 1000)
    expect(Object.fromEntries(store.sessionCounts('web:cookie'))).toEqual({ 'a:1': 2, 'b:1': 1 })
    store.touchSession('web:cookie', 's2', 'b:1', 1000)
    expect(Object.fromEntries(store.sessionCounts('web:cookie'))).toEqual({ 'a:1': 1, 'b:1': 2 })
    expect(Object.fromEntries(store.sessionCounts('api:cookie'))).toEqual({ 'a:1': 1 })
    expect(store.sessionCounts('nobody').size).toBe(0)
  })

  it('sweeps expired bindings and sessions: counts fall to zero as sessions expire; touched ones stay', () => {
    const { store, advance } = storeAt()
    for (let i = 0; i < 10; i++) store.touchSession('web:ip', `s${i}`, 'a:1', 1000)
    store.claim('web:ip:s0', 'a:1', 1000)
    advance(700)
    store.touchSession('web:ip', 's0', 'a:1', 1000)
    advance(400)
    store.sweep()
    expect(Object.fromEntries(store.sessionCounts('web:ip'))).toEqual({ 'a:1': 1 })
    expect(store.get('web:ip:s0')).toBeUndefined()
    advance(700)
    store.sweep()
    expect(store.sessionCounts('web:ip').get('a:1')).toBeUndefined()
  })

  it('sweeps on its own every second (its own timer, on a fake clock)', () => {
    vi.useFakeTimers()
    try {
      const store = new MemoryAffinityStore()
      stores.push(store)
      store.touchSession('web:ip', 's', 'a:1', 50)
      expect(store.sessionCounts('web:ip').get('a:1')).toBe(1)
      vi.advanceTimersByTime(999)
      expect(store.sessionCounts('web:ip').get('a:1')).toBe(1)
      vi.advanceTimersByTime(1)
      expect(store.sessionCounts('web:ip').get('a:1')).toBeUndefined()
    } finally {
      vi.useRealTimers()
    }
  })

  describe('maxEntries (a burst of jar-less clients or client addresses cannot exhaust memory)', () => {
    it('bindings: a new one beyond the bound drops the least recently set; a refreshed one counts as recent', () => {
      const evicted: EvictedKind[] = []
      const { store, advance } = storeAt(1_000_000, { maxEntries: 3, onEvict: (kind) => evicted.push(kind) })
      for (const key of ['k1', 'k2', 'k3']) store.claim(key, 'a:1', 60_000)
      advance(1000)
      store.refresh('k1', 60_000)
      store.claim('k4', 'b:1', 60_000)
      expect(store.get('k2')).toBeUndefined()
      expect(['k1', 'k3', 'k4'].map((key) => store.get(key)?.endpointId)).toEqual(['a:1', 'a:1', 'b:1'])
      store.rebind('k3', 'c:1', 60_000, 'a:1')
      store.claim('k5', 'c:1', 60_000)
      expect(store.get('k1')).toBeUndefined()
      expect(['k3', 'k4', 'k5'].map((key) => store.get(key)?.endpointId)).toEqual(['c:1', 'b:1', 'c:1'])
      // Claiming an existing key or refreshing one never evicts.
      store.claim('k4', 'a:1', 60_000)
      store.refresh('k5', 60_000)
      expect(evicted).toEqual(['binding', 'binding'])
    })

    it('live sessions: the bound holds per scope, the one idle longest goes and leaves the counts; one seen again stays', () => {
      const evicted: EvictedKind[] = []
      const { store, advance } = storeAt(1_000_000, { maxEntries: 3, onEvict: (kind) => evicted.push(kind) })
      store.touchSession('web:cookie', 's1', 'a:1', 600_000)
      store.touchSession('web:cookie', 's2', 'b:1', 600_000)
      store.touchSession('web:cookie', 's3', 'b:1', 600_000)
      store.touchSession('api:cookie', 'x1', 'a:1', 600_000)
      // s1 comes back after a while: it becomes the most recent, so s2 is the one idle longest.
      advance(30_000)
      store.touchSession('web:cookie', 's1', 'a:1', 600_000)
      store.touchSession('web:cookie', 's4', 'c:1', 600_000)
      expect(Object.fromEntries(store.sessionCounts('web:cookie'))).toEqual({ 'a:1': 1, 'b:1': 1, 'c:1': 1 })
      store.touchSession('web:cookie', 's5', 'c:1', 600_000)
      expect(Object.fromEntries(store.sessionCounts('web:cookie'))).toEqual({ 'a:1': 1, 'c:1': 2 })
      expect(Object.fromEntries(store.sessionCounts('api:cookie'))).toEqual({ 'a:1': 1 })
      expect(evicted).toEqual(['session', 'session'])
      // 10,000 sessions that never come back (clients without a cookie jar) keep it at the bound.
      for (let i = 0; i < 10_000; i++) store.touchSession('web:cookie', `jarless-${i}`, 'a:1', 600_000)
      expect([...store.sessionCounts('web:cookie').values()].reduce((sum, count) => sum + count, 0)).toBe(3)
      expect(evicted.length).toBe(10_002)
    })
  })
})
