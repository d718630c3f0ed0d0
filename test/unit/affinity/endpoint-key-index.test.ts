import { afterEach, describe, expect, it } from 'vitest'
import { EndpointKeyIndex } from '../../../src/affinity/endpoint-key-index.js'
import { SecretRing } from '../../../src/affinity/secret-ring.js'
import { endpointKeyOf } from '../../../src/affinity/session-token.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import { affinityPool, closeAll, endpointUrls } from './affinity-fixtures.js'

afterEach(closeAll)

const NEW = 'index-new-secret-0123456789'
const OLD = 'index-old-secret-0123456789'

describe('EndpointKeyIndex', () => {
  it('resolves the keyed id of every endpoint under the signing key, and nothing else', () => {
    const ring = new SecretRing([NEW])
    const { pool } = affinityPool({ endpoints: endpointUrls(5) }, { ring })
    const index = new EndpointKeyIndex(pool, ring)
    for (const endpoint of pool.endpoints) {
      const key = index.keyOf(endpoint)
      expect(key).toBe(endpointKeyOf(ring.signing, 'web', endpoint.id))
      expect(index.lookup(ring.signing.id, key)).toBe(endpoint)
      expect(index.lookup(ring.signing.id + 1, key)).toBeUndefined()
    }
    expect(index.lookup(ring.signing.id, 'AAAAAAAAAAA')).toBeUndefined()
    // Another pool's keyed id of the same address does not resolve here.
    expect(index.lookup(ring.signing.id, endpointKeyOf(ring.signing, 'api', (pool.endpoints[0] as Endpoint).id))).toBeUndefined()
  })

  it('follows the endpoint set: a new endpoint resolves, one that left the pool no longer does', async () => {
    const ring = new SecretRing([NEW])
    const urls = endpointUrls(3)
    const { pool } = affinityPool({ endpoints: urls.slice(0, 2), drainTimeout: '10ms' }, { ring })
    const index = new EndpointKeyIndex(pool, ring)
    const [first] = pool.endpoints as [Endpoint]
    const firstKey = index.keyOf(first)
    pool.setEndpoints('static', urls.slice(1).map((url) => ({ url, weight: 1 })))
    const added = pool.endpoint('127.0.0.1:10003') as Endpoint
    expect(index.lookup(ring.signing.id, endpointKeyOf(ring.signing, 'web', added.id))).toBe(added)
    // Draining: still in the pool, still resolves (its sessions may keep coming); gone after the drain.
    expect(index.lookup(ring.signing.id, firstKey)).toBe(first)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(pool.endpoint(first.id)).toBeUndefined()
    expect(index.lookup(ring.signing.id, firstKey)).toBeUndefined()
  })

  it('resolves keyed ids under every verifying key during a rotation, and issues under the new signing key', () => {
    const ring = new SecretRing([OLD])
    const { pool } = affinityPool({ endpoints: endpointUrls(2) }, { ring })
    const index = new EndpointKeyIndex(pool, ring)
    const endpoint = pool.endpoints[0] as Endpoint
    const oldKey = index.keyOf(endpoint)
    const oldId = ring.signing.id
    ring.replace([NEW, OLD])
    expect(index.lookup(oldId, oldKey)).toBe(endpoint)
    const newKey = index.keyOf(endpoint)
    expect(newKey).not.toBe(oldKey)
    expect(index.lookup(ring.signing.id, newKey)).toBe(endpoint)
    ring.replace([NEW])
    expect(index.lookup(oldId, oldKey)).toBeUndefined()
  })
})
