import { afterEach, describe, expect, it } from 'vitest'
import { HashAffinity } from '../../../src/affinity/hash-affinity.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import type { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { affinityPool, affinityRequest, closeAll, endpointUrls, maxDeviation, type ClientRequest, affinityOf } from './affinity-fixtures.js'

afterEach(closeAll)

const KEYS = Array.from({ length: 10_000 }, (_, index) => `user-${index}`)

function where(pool: UpstreamPool, client: ClientRequest): string | undefined {
  const lookup = (affinityOf(pool) as HashAffinity).lookup(affinityRequest(client))
  return lookup.bound?.id
}

function placement(pool: UpstreamPool): string[] {
  return KEYS.map((key) => where(pool, { headers: { 'X-User': key } }) as string)
}

describe('HashAffinity', () => {
  it('adding a 6th endpoint to 5 (the reload path) remaps ≤ 1/6 + 2 % of 10,000 keys, all to the new one; removing it puts them back', () => {
    const urls = endpointUrls(6)
    const { pool } = affinityPool({ endpoints: urls.slice(0, 5), affinity: { mode: 'hash', hash: { key: 'header:X-User' } } })
    const before = placement(pool)
    const counts = pool.endpoints.map((endpoint) => before.filter((id) => id === endpoint.id).length)
    expect(maxDeviation(counts), counts.join(', ')).toBeLessThanOrEqual(0.15)
    pool.setEndpoints('static', urls.map((url) => ({ url, weight: 1 })))
    const added = placement(pool)
    const newId = (pool.endpoints[5] as Endpoint).id
    const remapped = KEYS.filter((_, index) => before[index] !== added[index])
    if (process.env.AFFINITY_FIGURES !== undefined) console.info(`hash: adding a 6th endpoint remapped ${remapped.length} of ${KEYS.length} keys (${((remapped.length / KEYS.length) * 100).toFixed(2)} %)`)
    expect(remapped.length / KEYS.length).toBeLessThanOrEqual(1 / 6 + 0.02)
    for (const key of remapped) expect(added[KEYS.indexOf(key)]).toBe(newId)
    pool.setEndpoints('static', urls.slice(0, 5).map((url) => ({ url, weight: 1 })))
    expect(placement(pool)).toEqual(before)
  })

  it('removing one of 5 endpoints remaps only the keys it had', () => {
    const urls = endpointUrls(5)
    const { pool } = affinityPool({ endpoints: urls, affinity: { mode: 'hash', hash: { key: 'header:X-User' } } })
    const before = placement(pool)
    const removed = (pool.endpoints[2] as Endpoint).id
    pool.setEndpoints('static', urls.filter((_, index) => index !== 2).map((url) => ({ url, weight: 1 })))
    const after = placement(pool)
    let moved = 0
    KEYS.forEach((_, index) => {
      if (before[index] === removed) {
        moved++
        expect(after[index]).not.toBe(removed)
      } else {
        expect(after[index]).toBe(before[index])
      }
    })
    if (process.env.AFFINITY_FIGURES !== undefined) console.info(`hash: removing one of 5 endpoints moved ${moved} keys, all of them its own`)
    expect(moved).toBeGreaterThan(1000)
  })

  it('hashes the configured key source: client-ip, path, cookie, query; without the key it does not bind', () => {
    const urls = endpointUrls(5)
    for (const [key, same, other] of [
      ['client-ip', { clientIp: '10.0.0.1', target: '/a' }, { clientIp: '10.0.0.1', target: '/b' }],
      ['path', { clientIp: '10.0.0.1', target: '/a?x=1' }, { clientIp: '10.9.9.9', target: '/a?x=2' }],
      ['cookie:sid', { cookie: 'a=1; sid=42' }, { cookie: 'sid=42; b=2', clientIp: '10.0.0.2' }],
      ['query:room', { target: '/x?room=7&y=1' }, { target: '/y?z=0&room=7', clientIp: '10.0.0.3' }],
    ] as const) {
      const { pool } = affinityPool({ endpoints: urls, affinity: { mode: 'hash', hash: { key } } })
      expect(where(pool, same), key).toBeDefined()
      expect(where(pool, other), key).toBe(where(pool, same))
    }
    const { pool } = affinityPool({ endpoints: urls, affinity: { mode: 'hash', hash: { key: 'header:X-User' } } })
    const lookup = (affinityOf(pool) as HashAffinity).lookup(affinityRequest({}))
    expect(lookup.bound).toBeUndefined()
    expect(lookup.bindable).toBe(false)
  })

  it('with boundedLoad, passes over an endpoint above (1 + ε) × mean in-flight for the next in the key\'s order', () => {
    const { pool } = affinityPool({ endpoints: endpointUrls(5), affinity: { mode: 'hash', hash: { key: 'header:X-User', boundedLoad: 0.25 } } })
    const client = { headers: { 'X-User': 'user-1' } }
    const home = pool.endpoint(where(pool, client) as string) as Endpoint
    home.inflight = 10
    // mean with this request: (10 + 1) / 5 → cap ceil(1.25 × 11 / 5) = 3; home is above it.
    const next = where(pool, client)
    expect(next).not.toBe(home.id)
    for (const endpoint of pool.endpoints) if (endpoint !== home) endpoint.inflight = 10
    // Everyone is loaded alike: the key's own endpoint is within the bound again.
    expect(where(pool, client)).toBe(home.id)
    for (const endpoint of pool.endpoints) endpoint.inflight = 0
  })
})
