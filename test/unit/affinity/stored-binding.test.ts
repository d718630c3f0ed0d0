import { Buffer } from 'node:buffer'
import { afterEach, describe, expect, it } from 'vitest'
import { StoredBindings } from '../../../src/affinity/stored-binding.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import { affinityPool, affinityRequest, closeAll, endpointUrls, serveNow, affinityOf } from './affinity-fixtures.js'

afterEach(closeAll)

describe('StoredBindings (client-ip and learn)', () => {
  it('first binding wins; a rebind replaces only the binding it saw fail (every replica moves the session to the same place)', () => {
    const { pool, store } = affinityPool({ endpoints: endpointUrls(3) })
    const [a, b, c] = pool.endpoints as [Endpoint, Endpoint, Endpoint]
    const bindings = new StoredBindings(pool, 'ip', store, 60_000)
    const key = bindings.keyOf('10.0.0.1')
    const fresh = bindings.lookup(key)
    if (fresh instanceof Promise) throw new Error('memory store is synchronous')
    expect(fresh).toMatchObject({ bound: undefined, bindable: true, key })
    expect(bindings.bind(fresh, a, false)).toBe(a)
    // A racing request that picked b gets a (first binding wins).
    expect(bindings.bind(fresh, b, false)).toBe(a)
    const seen = bindings.lookup(key)
    if (seen instanceof Promise) throw new Error('memory store is synchronous')
    expect(seen.bound).toBe(a)
    expect(bindings.bind(seen, b, true)).toBe(b)
    // A second replica that also saw `a` fail and picked c: the session stays on b.
    expect(bindings.bind(seen, c, true)).toBe(b)
    expect(store.get(key)?.endpointId).toBe(b.id)
  })

  it('learn: a learned session whose endpoint left the pool is rebound once, then sticks', async () => {
    const urls = endpointUrls(3)
    const { pool } = affinityPool({ endpoints: urls, drainTimeout: '10ms', affinity: { mode: 'learn', learn: { source: 'cookie', name: 'connect.sid' } } })
    const first = serveNow(pool, {})
    expect(first.outcome).toBeUndefined()
    const endpoint = first.endpoint as Endpoint
    affinityOf(pool)?.learn?.([Buffer.from('set-cookie'), Buffer.from('connect.sid=s%3Aabc.def; Path=/; HttpOnly')], undefined, endpoint, affinityRequest({}))
    const cookie = 'connect.sid=s%3Aabc.def'
    expect(serveNow(pool, { cookie })).toMatchObject({ outcome: 'hit', endpoint })
    pool.setEndpoints('static', urls.filter((url) => new URL(url).host !== endpoint.id).map((url) => ({ url, weight: 1 })))
    await new Promise((resolve) => setTimeout(resolve, 50))
    const moved = serveNow(pool, { cookie })
    expect(moved.outcome).toBe('rebound')
    for (let i = 0; i < 5; i++) expect(serveNow(pool, { cookie })).toMatchObject({ outcome: 'hit', endpoint: moved.endpoint })
  })
})
