import { afterEach, describe, expect, it, vi } from 'vitest'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import type { Waiter } from '../../../src/upstream/pending-queue.js'
import { UpstreamPool, type EndpointWatcher } from '../../../src/upstream/upstream-pool.js'
import { poolConfig, RecordingObserver } from './pool-fixtures.js'

const urls = (...ports: number[]): string[] => ports.map((port) => `http://127.0.0.1:${port}`)

/** A watcher that only records calls. */
class RecordingWatcher implements EndpointWatcher {
  readonly watched: string[] = []
  readonly unwatched: string[] = []
  stopped = false
  watch(endpoint: Endpoint): void {
    this.watched.push(endpoint.id)
  }
  unwatch(endpoint: Endpoint): void {
    this.unwatched.push(endpoint.id)
  }
  stop(): void {
    this.stopped = true
  }
}

const pools: UpstreamPool[] = []
function makePool(pool: Parameters<typeof poolConfig>[0], watcher?: EndpointWatcher) {
  const observer = new RecordingObserver()
  const created = new UpstreamPool(poolConfig(pool), observer, watcher === undefined ? {} : { watcher: () => watcher })
  pools.push(created)
  const [a, b, c, d] = created.endpoints as [Endpoint, Endpoint, Endpoint, Endpoint]
  return { pool: created, observer, a, b, c, d }
}

afterEach(async () => {
  vi.useRealTimers()
  await Promise.all(pools.splice(0).map((pool) => pool.close()))
})

describe('UpstreamPool.pick', () => {
  it('picks usable endpoints in round-robin order, skipping those already tried', () => {
    const { pool, a, b, c } = makePool({ endpoints: urls(1, 2, 3) })
    expect([1, 2, 3, 4, 5, 6].map(() => pool.pick(undefined))).toEqual([a, b, c, a, b, c])
    expect(pool.pick([a])).not.toBe(a)
    expect(pool.pick([a, b])).toBe(c)
    expect(pool.pick([a, b, c])).toBeUndefined()
  })

  it('picks the least loaded endpoint with a free slot when the policy\'s choice is full', () => {
    const { pool, a, b, c } = makePool({ endpoints: urls(1, 2, 3), limits: { maxRequestsPerEndpoint: 2 } })
    a.inflight = 2
    b.inflight = 1
    c.inflight = 0
    for (let i = 0; i < 6; i++) expect(pool.pick(undefined)).not.toBe(a)
    c.inflight = 2
    expect(pool.pick(undefined)).toBe(b)
    b.inflight = 2
    expect(pool.pick(undefined)).toBe('full')
    expect(pool.pick([a, b])).toBe('full')
    // Upgrades do not take request slots.
    expect(pool.pick(undefined, true)).toBeTypeOf('object')
  })

  it('returns undefined when no endpoint is usable', () => {
    const { pool, a, b } = makePool({ endpoints: urls(1, 2), passiveHealth: { panicThreshold: 0 } })
    a.setCheckState('unhealthy', 'test')
    b.setAdminState('maintenance')
    expect(pool.pick(undefined)).toBeUndefined()
  })
})

describe('UpstreamPool panic mode', () => {
  it('routes to every endpoint but maintenance ones when fewer than panicThreshold % are healthy', () => {
    const { pool, observer, a, b, c, d } = makePool({ endpoints: urls(1, 2, 3, 4), passiveHealth: { panicThreshold: 50 } })
    a.setCheckState('unhealthy', 'test')
    b.setEjectedUntil(Date.now() + 60_000, 'test')
    // 2 of 4 healthy is not below 50 %.
    expect(pool.panic).toBe(false)
    expect(pool.isUsable(a)).toBe(false)
    d.setAdminState('maintenance')
    // 1 (c) of 3 eligible (a, b, c) is.
    expect(pool.panic).toBe(true)
    expect(observer.of('panic')).toEqual([expect.objectContaining({ panic: true, healthy: 1, total: 3 })])
    expect([a, b, c].every((endpoint) => pool.isUsable(endpoint))).toBe(true)
    expect(pool.isUsable(d)).toBe(false)
    const picked = new Set([1, 2, 3, 4, 5, 6].map(() => pool.pick(undefined)))
    expect(picked).toEqual(new Set([a, b, c]))
    a.setCheckState('healthy', 'test')
    expect(pool.panic).toBe(false)
    expect(observer.of('panic').at(-1)).toMatchObject({ panic: false, healthy: 2, total: 3 })
    expect(pool.isUsable(b)).toBe(false)
  })

  it('never panics with panicThreshold 0', () => {
    const { pool, a, b } = makePool({ endpoints: urls(1, 2), passiveHealth: { panicThreshold: 0 } })
    a.setCheckState('unhealthy', 'test')
    b.setCheckState('unhealthy', 'test')
    expect(pool.panic).toBe(false)
    expect(pool.pick(undefined)).toBeUndefined()
  })
})

describe('UpstreamPool.setEndpoints', () => {
  it('watches every endpoint, from the start and when added, and stops the watcher on close', async () => {
    const watcher = new RecordingWatcher()
    const { pool, a } = makePool({ endpoints: urls(1) }, watcher)
    pool.setEndpoints('discovery', [{ url: urls(2)[0] as string, weight: 1 }])
    expect(watcher.watched).toEqual([a.id, '127.0.0.1:2'])
    await (pools.pop() as UpstreamPool).close()
    expect(watcher.stopped).toBe(true)
  })

  it('keeps endpoints added later out of rotation (and out of the panic count) until checked, when checks are on', () => {
    const { pool, a } = makePool({ endpoints: urls(1), healthCheck: { path: '/healthz' } }, new RecordingWatcher())
    expect(a.checkState).toBe('unknown')
    pool.setEndpoints('discovery', [{ url: urls(2)[0] as string, weight: 1 }])
    const added = pool.endpoint('127.0.0.1:2') as Endpoint
    expect(added.checkState).toBe('pending')
    expect(pool.isUsable(added)).toBe(false)
    a.setCheckState('unhealthy', 'test')
    // a alone counts: 0 of 1 healthy → panic, yet the unchecked endpoint still takes nothing.
    expect(pool.panic).toBe(true)
    expect(pool.isUsable(added)).toBe(false)
    added.setCheckState('healthy', 'test')
    expect(pool.panic).toBe(false)
    expect(pool.pick(undefined)).toBe(added)
    const unchecked = makePool({ endpoints: urls(1) })
    unchecked.pool.setEndpoints('discovery', [{ url: urls(2)[0] as string, weight: 1 }])
    expect(unchecked.pool.isUsable(unchecked.pool.endpoint('127.0.0.1:2') as Endpoint)).toBe(true)
  })

  it('drains a removed endpoint for drainTimeout, then unwatches, forgets and closes it', () => {
    vi.useFakeTimers()
    const watcher = new RecordingWatcher()
    const { pool, observer, a, b } = makePool({ endpoints: urls(1, 2), drainTimeout: '5s' }, watcher)
    pool.setEndpoints('static', [{ url: urls(1)[0] as string, weight: 1 }])
    expect(b.state).toBe('draining')
    expect(b.removalDeadline).toBe(Date.now() + 5000)
    expect(pool.isUsable(b)).toBe(false)
    expect(pool.endpoints).toContain(b)
    expect([1, 2, 3].map(() => pool.pick(undefined))).toEqual([a, a, a])
    vi.advanceTimersByTime(4999)
    expect(pool.endpoints).toContain(b)
    vi.advanceTimersByTime(1)
    expect(pool.endpoints).toEqual([a])
    expect(watcher.unwatched).toEqual([b.id])
    expect(observer.of('removed').map((event) => event.endpoint)).toEqual([b.id])
    expect(b.dispatcher.closed).toBe(true)
  })

  it('takes a removed endpoint back if it returns before its drain ends', () => {
    vi.useFakeTimers()
    const watcher = new RecordingWatcher()
    const { pool, b } = makePool({ endpoints: urls(1, 2), drainTimeout: '5s' }, watcher)
    pool.setEndpoints('static', [{ url: urls(1)[0] as string, weight: 1 }])
    vi.advanceTimersByTime(3000)
    pool.setEndpoints('static', [{ url: urls(1)[0] as string, weight: 1 }, { url: urls(2)[0] as string, weight: 1 }])
    expect(b.state).toBe('healthy')
    expect(pool.isUsable(b)).toBe(true)
    vi.advanceTimersByTime(10_000)
    expect(pool.endpoints).toContain(b)
    expect(watcher.unwatched).toEqual([])
  })

  it('changes only the endpoints of the given source', () => {
    const { pool, a } = makePool({ endpoints: urls(1) })
    pool.setEndpoints('discovery', [{ url: urls(2)[0] as string, weight: 1 }])
    pool.setEndpoints('discovery', [])
    expect(a.state).toBe('healthy')
    expect(pool.endpoint('127.0.0.1:2')?.state).toBe('draining')
  })
})

describe('UpstreamPool.slotFreed', () => {
  it('hands a freed slot of a usable endpoint to a waiting request', () => {
    const { pool, a, b } = makePool({ endpoints: urls(1, 2), limits: { maxRequestsPerEndpoint: 1 } })
    const granted: Endpoint[] = []
    const waiter: Waiter = { accepts: (endpoint) => pool.isUsable(endpoint), grant: (endpoint) => granted.push(endpoint), reject: () => undefined }
    a.inflight = 1
    b.inflight = 1
    expect(pool.pick(undefined)).toBe('full')
    expect(pool.waitForSlot(waiter)).toBe(true)
    pool.slotFreed(a) // still full: nothing happens
    expect(granted).toEqual([])
    b.inflight = 0
    pool.slotFreed(b)
    expect(granted).toEqual([b])
    expect(pool.queue.length).toBe(0)
  })
})
