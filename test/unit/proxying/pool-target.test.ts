import { afterEach, describe, expect, it } from 'vitest'
import { SecretRing } from '../../../src/affinity/secret-ring.js'
import { LeastSessions } from '../../../src/balancing/least-sessions.js'
import { poolTarget } from '../../../src/proxying/pool-target.js'
import { MemoryAffinityStore } from '../../../src/stores/memory-store.js'
import { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { endpointUrls, SECRET } from '../affinity/affinity-fixtures.js'
import { poolConfig, RecordingObserver } from '../upstream/pool-fixtures.js'

/** A store whose counts lag, as the shared ones (IPC, Redis) say they do. */
class LaggingStore extends MemoryAffinityStore {
  override readonly liveCountsLagMs = 2000
}

const opened: { pool: UpstreamPool; store: MemoryAffinityStore }[] = []
afterEach(async () => {
  for (const { pool, store } of opened.splice(0)) {
    await pool.close()
    await store.close()
  }
})

function leastSessionsTarget(store: MemoryAffinityStore, mode: 'cookie' | 'none'): ReturnType<typeof poolTarget> {
  const pool = new UpstreamPool(poolConfig({ endpoints: endpointUrls(2), balance: 'least-sessions', affinity: { mode } }), new RecordingObserver())
  opened.push({ pool, store })
  return poolTarget(pool, { ring: new SecretRing([SECRET]), store })
}

describe('poolTarget (the composition root wires affinity above the pool)', () => {
  it('least-sessions takes the lag of its counts from the store contract, not from the store\'s class', () => {
    expect((leastSessionsTarget(new MemoryAffinityStore(), 'cookie').pool.policy as LeastSessions).countsLagMs).toBe(0)
    expect((leastSessionsTarget(new LaggingStore(), 'cookie').pool.policy as LeastSessions).countsLagMs).toBe(2000)
  })

  it('gives the pool and its policy the affinity\'s live-session counts; none without affinity', () => {
    const store = new MemoryAffinityStore()
    const target = leastSessionsTarget(store, 'cookie')
    const [a] = target.pool.endpoints
    store.touchSession(`${target.pool.name}:cookie`, 's1', a?.id as string, 60_000)
    expect(Object.fromEntries(target.pool.sessionCounts?.() ?? [])).toEqual({ [a?.id as string]: 1 })
    expect((target.pool.policy as LeastSessions).counts()).toEqual(target.pool.sessionCounts?.())
    const plain = leastSessionsTarget(new MemoryAffinityStore(), 'none')
    expect([plain.affinity, plain.pool.sessionCounts]).toEqual([undefined, undefined])
    expect((plain.pool.policy as LeastSessions).counts().size).toBe(0)
  })
})
