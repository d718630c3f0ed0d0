import { describe, expect, it } from 'vitest'
import { SecretRing } from '../../../src/affinity/secret-ring.js'
import { endpointKeyOf, SessionTokenCodec, type SessionIdentity } from '../../../src/affinity/session-token.js'

const OLD = 'old-secret-0123456789abcdefghij'
const NEW = 'new-secret-0123456789abcdefghij'
const SESSION: SessionIdentity = { sessionId: 'AAECAwQFBgc', issuedAt: 1_700_000_000 }

function issue(codec: SessionTokenCodec, ring: SecretRing, endpointId = '10.0.0.1:8080', now = 1_700_000_100): string {
  return codec.issue(endpointKeyOf(ring.signing, 'web', endpointId), now, SESSION)
}

describe('SessionTokenCodec', () => {
  it('issues an opaque 58-character base64url token that verifies to what was put in', () => {
    const ring = new SecretRing([NEW])
    const codec = new SessionTokenCodec('web:cookie', ring)
    const text = issue(codec, ring)
    expect(text).toMatch(/^[A-Za-z0-9_-]{58}$/)
    expect(text).not.toContain('10.0.0.1')
    expect(Buffer.from(text, 'base64url').toString('latin1')).not.toContain('10.0.0.1')
    expect(codec.verify(text)).toEqual({
      keyId: ring.signing.id, endpointKey: endpointKeyOf(ring.signing, 'web', '10.0.0.1:8080'), sessionId: SESSION.sessionId, issuedAt: SESSION.issuedAt, refreshedAt: 1_700_000_100,
    })
  })

  it('cached(): only tokens that verified before, under the current secrets (no HMAC; how split rules find a shared cookie\'s pool)', () => {
    const ring = new SecretRing([NEW])
    const codec = new SessionTokenCodec('web:cookie', ring)
    const other = new SessionTokenCodec('canary:cookie', ring)
    const text = issue(codec, ring)
    expect(codec.cached(text)).toBeUndefined()
    expect(other.verify(text)).toBeUndefined()
    expect(other.cached(text)).toBeUndefined()
    expect(codec.verify(text)).toBeDefined()
    expect(codec.cached(text)).toEqual(codec.verify(text))
    ring.replace([OLD])
    expect(codec.cached(text)).toBeUndefined()
  })

  it('rejects every single-byte change, truncation, extension, wrong alphabet and random values', () => {
    const ring = new SecretRing([NEW])
    const codec = new SessionTokenCodec('web:cookie', ring)
    const text = issue(codec, ring)
    const bytes = Buffer.from(text, 'base64url')
    for (let i = 0; i < bytes.length; i++) {
      const tampered = Buffer.from(bytes)
      tampered[i] = (tampered[i] as number) ^ 0x01
      expect(codec.verify(tampered.toString('base64url')), `byte ${i}`).toBeUndefined()
    }
    expect(codec.verify(text.slice(0, -1))).toBeUndefined()
    expect(codec.verify(`${text}A`)).toBeUndefined()
    expect(codec.verify(`${text.slice(0, -1)}=`)).toBeUndefined()
    expect(codec.verify('')).toBeUndefined()
    expect(codec.verify('127.0.0.1:8080')).toBeUndefined()
    for (let i = 0; i < 200; i++) expect(codec.verify(Buffer.from(crypto.getRandomValues(new Uint8Array(43))).toString('base64url'))).toBeUndefined()
  })

  it('a token of another pool or mode never verifies (scope is in the MAC)', () => {
    const ring = new SecretRing([NEW])
    const text = issue(new SessionTokenCodec('web:cookie', ring), ring)
    expect(new SessionTokenCodec('api:cookie', ring).verify(text)).toBeUndefined()
    expect(new SessionTokenCodec('web:header', ring).verify(text)).toBeUndefined()
  })

  it('rotation: the first secret signs, every listed secret verifies; a retired secret no longer does (even from the cache)', () => {
    const oldRing = new SecretRing([OLD])
    const signedByOld = issue(new SessionTokenCodec('web:cookie', oldRing), oldRing)
    const ring = new SecretRing([NEW, OLD])
    const codec = new SessionTokenCodec('web:cookie', ring)
    expect(codec.verify(signedByOld)?.keyId).toBe(oldRing.signing.id)
    const signedByNew = issue(codec, ring)
    expect(codec.verify(signedByNew)?.keyId).toBe(new SecretRing([NEW]).signing.id)
    expect(new SessionTokenCodec('web:cookie', oldRing).verify(signedByNew)).toBeUndefined()
    ring.replace([NEW])
    expect(codec.verify(signedByOld)).toBeUndefined()
    expect(codec.verify(signedByNew)).toBeDefined()
  })

  it('tokens it issued verify (then from the cache) to what a fresh codec decodes, and not once their secret is retired', () => {
    const ring = new SecretRing([NEW, OLD])
    const codec = new SessionTokenCodec('web:cookie', ring)
    const texts = ['10.0.0.1:8080', '10.0.0.2:8080', '10.0.0.3:8080'].map((endpoint, i) => issue(codec, ring, endpoint, 1_700_000_100 + i))
    for (const text of texts) expect(codec.verify(text)).toEqual(new SessionTokenCodec('web:cookie', ring).verify(text))
    for (const text of texts) expect(codec.verify(text)).toBe(codec.verify(text))
    ring.replace([OLD])
    for (const text of texts) expect(codec.verify(text)).toBeUndefined()
  })

  it('a token signed with an unknown secret does not verify', () => {
    const other = new SecretRing(['someone-elses-secret-0123456789'])
    const text = issue(new SessionTokenCodec('web:cookie', other), other)
    const ring = new SecretRing([NEW])
    expect(new SessionTokenCodec('web:cookie', ring).verify(text)).toBeUndefined()
  })
})

describe('endpointKeyOf', () => {
  it('is 8 bytes of keyed hash: stable per secret, pool and endpoint, different otherwise, never the address', () => {
    const [a, b] = [new SecretRing([NEW]).signing, new SecretRing([OLD]).signing]
    const key = endpointKeyOf(a, 'web', '10.0.0.1:8080')
    expect(key).toMatch(/^[A-Za-z0-9_-]{11}$/)
    expect(endpointKeyOf(a, 'web', '10.0.0.1:8080')).toBe(key)
    expect(endpointKeyOf(b, 'web', '10.0.0.1:8080')).not.toBe(key)
    expect(endpointKeyOf(a, 'api', '10.0.0.1:8080')).not.toBe(key)
    expect(endpointKeyOf(a, 'web', '10.0.0.2:8080')).not.toBe(key)
  })
})
