/**
 * @module Signed, opaque session tokens for cookie and header affinity.
 *
 * A token is 43 bytes, base64url (58 characters): version, signing-key fingerprint, a keyed id of the
 * endpoint (HMAC of pool and endpoint id under the secret — no address, port or pod name), a random
 * session id, issued-at and refreshed-at (seconds), and a 128-bit HMAC-SHA256 over all of it and the
 * token's scope (pool + mode), so a token from another pool or mode never verifies. Comparison is
 * constant-time. Verified tokens are cached by their text, so a client's repeat requests cost one Map
 * lookup instead of an HMAC; only tokens that verified are ever cached.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { SecretRing, SigningKey } from './secret-ring.js'

const VERSION = 1
const LENGTH = 43
const MAC_OFFSET = 27
const TEXT_LENGTH = 58
const CACHE_LIMIT = 100_000

/** A session's lasting identity: its id and when it was first bound. */
export interface SessionIdentity {
  /** Random session id (base64url of 8 bytes), for live-session counts. */
  readonly sessionId: string
  /** Seconds since epoch of the first binding. */
  readonly issuedAt: number
}

/** What a valid token says. */
export interface SessionToken extends SessionIdentity {
  readonly keyId: number
  /** Keyed endpoint id (base64url of 8 bytes), resolved through EndpointKeyIndex. */
  readonly endpointKey: string
  /** Seconds since epoch of the last (re)issue, for the sliding idle lifetime. */
  readonly refreshedAt: number
}

/** Encodes and verifies tokens for one scope (pool + mode). */
export class SessionTokenCodec {
  readonly #scope: Buffer
  readonly #ring: SecretRing
  readonly #verified = new Map<string, SessionToken>()
  #keysSeen: readonly SigningKey[] = []

  constructor(scope: string, ring: SecretRing) {
    this.#scope = Buffer.from(`latch-token-v1\0${scope}\0`)
    this.#ring = ring
  }

  /** Issues a token for `session`, bound to the endpoint with keyed id `endpointKey`. */
  issue(endpointKey: string, nowSeconds: number, session: SessionIdentity): string {
    const key = this.#ring.signing
    const bytes = Buffer.allocUnsafe(LENGTH)
    bytes.writeUInt8(VERSION, 0)
    bytes.writeUInt16BE(key.id, 1)
    bytes.write(endpointKey, 3, 8, 'base64url')
    bytes.write(session.sessionId, 11, 8, 'base64url')
    bytes.writeUInt32BE(session.issuedAt, 19)
    bytes.writeUInt32BE(nowSeconds, 23)
    this.#mac(key, bytes).copy(bytes, MAC_OFFSET, 0, 16)
    // Not cached here: clients without a cookie jar get a new token on every request, and caching
    // those would cost each of them a Map insert and push the returning clients' tokens out.
    return bytes.toString('base64url')
  }

  /** The token's content if it verified before (under the current secrets): a Map lookup, never an HMAC. */
  cached(text: string): SessionToken | undefined {
    if (this.#keysSeen !== this.#ring.keys) {
      // Secrets changed: tokens verified under a retired secret must not stay valid from the cache.
      this.#verified.clear()
      this.#keysSeen = this.#ring.keys
    }
    return this.#verified.get(text)
  }

  /** The token's content if it is genuine (any current key), else undefined. Never throws. */
  verify(text: string): SessionToken | undefined {
    const cached = this.cached(text)
    if (cached !== undefined) return cached
    if (text.length !== TEXT_LENGTH || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined
    const bytes = Buffer.from(text, 'base64url')
    if (bytes.length !== LENGTH || bytes.readUInt8(0) !== VERSION) return undefined
    // The last character carries 2 bits: 16 texts decode to the same bytes. Only the one Latch
    // issued is accepted (and cached), so a token has exactly one valid spelling.
    if (bytes.toString('base64url') !== text) return undefined
    const keyId = bytes.readUInt16BE(1)
    const key = this.#ring.keys.find((candidate) => candidate.id === keyId)
    if (key === undefined) return undefined
    const expected = this.#mac(key, bytes).subarray(0, 16)
    if (!timingSafeEqual(expected, bytes.subarray(MAC_OFFSET))) return undefined
    const token: SessionToken = {
      keyId,
      endpointKey: bytes.toString('base64url', 3, 11),
      sessionId: bytes.toString('base64url', 11, 19),
      issuedAt: bytes.readUInt32BE(19),
      refreshedAt: bytes.readUInt32BE(23),
    }
    if (this.#verified.size >= CACHE_LIMIT) this.#verified.delete(this.#verified.keys().next().value as string)
    this.#verified.set(text, token)
    return token
  }

  #mac(key: SigningKey, bytes: Buffer): Buffer {
    return createHmac('sha256', key.secret).update(this.#scope).update(bytes.subarray(0, MAC_OFFSET)).digest()
  }
}

/** The keyed, opaque id of an endpoint under `key`: 8 bytes of HMAC(pool, endpoint id). */
export function endpointKeyOf(key: SigningKey, pool: string, endpointId: string): string {
  return createHmac('sha256', key.secret).update(`latch-endpoint\0${pool}\0${endpointId}`).digest().toString('base64url', 0, 8)
}
