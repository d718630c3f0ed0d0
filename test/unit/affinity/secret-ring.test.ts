import { describe, expect, it } from 'vitest'
import { randomSecret, SecretRing } from '../../../src/affinity/secret-ring.js'

describe('SecretRing', () => {
  it('signs with the first secret and verifies with all, in order', () => {
    const ring = new SecretRing(['first-secret-0123456789', 'second-secret-0123456789'])
    expect(ring.generated).toBe(false)
    expect(ring.keys).toHaveLength(2)
    expect(ring.signing).toBe(ring.keys[0])
    expect(ring.signing.secret.toString()).toBe('first-secret-0123456789')
    expect(ring.keys[0]?.id).not.toBe(ring.keys[1]?.id)
  })

  it('gives a secret the same 16-bit fingerprint everywhere (replicas agree on key ids)', () => {
    const one = new SecretRing(['shared-secret-0123456789'])
    const two = new SecretRing(['other-secret-0123456789', 'shared-secret-0123456789'])
    expect(two.keys[1]?.id).toBe(one.signing.id)
    expect(one.signing.id).toBeGreaterThanOrEqual(0)
    expect(one.signing.id).toBeLessThan(65_536)
  })

  it('generates a random secret when none is configured (flagged), or uses the one handed over (workers)', () => {
    const a = new SecretRing([])
    const b = new SecretRing([])
    expect(a.generated).toBe(true)
    expect(a.signing.secret.equals(b.signing.secret)).toBe(false)
    const handed = randomSecret()
    expect(handed).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(new SecretRing([], handed).signing.secret.toString()).toBe(handed)
  })

  it('replace swaps the whole key list (a new array, so caches notice) and clears the generated flag', () => {
    const ring = new SecretRing([])
    const before = ring.keys
    ring.replace(['shared-from-redis-0123456789'])
    expect(ring.generated).toBe(false)
    expect(ring.keys).not.toBe(before)
    expect(ring.signing.secret.toString()).toBe('shared-from-redis-0123456789')
  })
})
