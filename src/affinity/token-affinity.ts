/**
 * @module `cookie` and `header` affinity: the binding travels with the client as a signed token.
 *
 * The hit path needs no store: the token names its endpoint by a keyed id that any replica with the
 * same secrets and endpoints resolves by itself. Lifetimes are enforced here, not only by browsers:
 * `maxAge` from the first binding, `idleTimeout` sliding (the token is re-issued past half of it).
 * A tampered, truncated, foreign, duplicated or expired token is treated as absent.
 */
import { stringifySetCookie } from 'cookie'
import { cookiePrefix, type AffinityConfig } from '../config/affinity-schema.js'
import type { AffinityStore } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolView } from '../upstream/pool-view.js'
import { readCookie, withoutCookie } from './cookie-jar.js'
import { EndpointKeyIndex } from './endpoint-key-index.js'
import type { SecretRing } from './secret-ring.js'
import { noSession, type AffinityOutcome, type AffinityRequest, type SessionAffinity, type SessionLookup } from './session-affinity.js'
import { newSessionId } from './session-id.js'
import { SessionTokenCodec, type SessionIdentity } from './session-token.js'

/** Signed-token affinity carried in a cookie or a header. */
export class TokenAffinity implements SessionAffinity {
  readonly mode: 'cookie' | 'header'
  readonly #config: AffinityConfig
  readonly #store: AffinityStore
  readonly #codec: SessionTokenCodec
  readonly #index: EndpointKeyIndex
  readonly #scope: string
  readonly #name: string
  readonly #maxAge: number | undefined
  readonly #idle: number | undefined
  readonly #liveTtl: number
  /** `Set-Cookie` attributes (after the value) by Secure and Max-Age; see #setCookie. */
  readonly #cookieAttributes = new Map<number, string>()
  /** Secure whatever the request: SameSite=None, `secure: always`, or a `__Secure-`/`__Host-` name. */
  readonly #alwaysSecure: boolean

  constructor(mode: 'cookie' | 'header', pool: PoolView, config: AffinityConfig, ring: SecretRing, store: AffinityStore) {
    this.mode = mode
    this.#config = config
    this.#store = store
    this.#scope = `${pool.name}:${mode}`
    this.#codec = new SessionTokenCodec(this.#scope, ring)
    this.#index = new EndpointKeyIndex(pool, ring)
    const options = mode === 'cookie' ? config.cookie : config.header
    this.#name = mode === 'cookie' ? config.cookie.name : config.header.name.toLowerCase()
    const cookie = config.cookie
    this.#alwaysSecure = cookie.sameSite === 'None' || cookie.secure === 'always' || (cookie.secure === 'auto' && cookiePrefix(cookie.name) !== undefined)
    this.#maxAge = options.maxAge
    this.#idle = options.idleTimeout
    // Tokens carry whole seconds, so one stays valid up to a second past idleTimeout: the live count
    // must not reach zero (a draining Pod's preStop waits for it) while a session can still come back.
    this.#liveTtl = Math.min(options.idleTimeout === undefined ? Infinity : options.idleTimeout + 1000, config.liveSessionWindow)
  }

  lookup(request: AffinityRequest): SessionLookup {
    const text = this.#readToken(request)
    if (text === null) return noSession(true, 'invalid')
    if (text === undefined) return noSession(true)
    const token = this.#codec.verify(text)
    if (token === undefined) return noSession(true, 'invalid')
    const now = nowSeconds()
    if ((this.#maxAge !== undefined && (now - token.issuedAt) * 1000 > this.#maxAge) || (this.#idle !== undefined && (now - token.refreshedAt) * 1000 > this.#idle)) {
      return noSession(true, 'expired')
    }
    const bound = this.#index.lookup(token.keyId, token.endpointKey)
    return { bound, boundGone: bound === undefined, problem: undefined, key: undefined, token, bindable: true }
  }

  bind(_lookup: SessionLookup, picked: Endpoint): Endpoint {
    return picked
  }

  commit(lookup: SessionLookup, endpoint: Endpoint, outcome: AffinityOutcome | undefined, request: AffinityRequest, out: string[]): void {
    const now = nowSeconds()
    const token = lookup.token
    let sessionId = token?.sessionId
    if (token === undefined || outcome === 'rebound' || (this.#idle !== undefined && (now - token.refreshedAt) * 2000 > this.#idle)) {
      // A refreshed or rebound session keeps its id and first-binding time; others start over.
      const session: SessionIdentity = token !== undefined && (outcome === 'hit' || outcome === 'rebound') ? token : { sessionId: newSessionId(), issuedAt: now }
      sessionId = session.sessionId
      const text = this.#codec.issue(this.#index.keyOf(endpoint), now, session)
      if (this.mode === 'cookie') out.push('set-cookie', this.#setCookie(text, session.issuedAt, now, request.secure))
      else out.push(this.#name, text)
    }
    this.#store.touchSession(this.#scope, sessionId as string, endpoint.id, this.#liveTtl)
  }

  sessionCounts(): ReadonlyMap<string, number> {
    return this.#store.sessionCounts(this.#scope)
  }

  /** The token text; undefined when absent, null when present but unusable (duplicated). */
  #readToken(request: AffinityRequest): string | undefined | null {
    if (this.mode === 'header') return headerValue(request, this.#name)
    const cookie = readCookie(request.cookieHeader, this.#name)
    if (cookie.count === 0) return undefined
    if (!this.#config.cookie.forwardToUpstream) request.setUpstreamCookie(withoutCookie(request.cookieHeader as string, this.#name))
    return cookie.count > 1 ? null : (cookie.value as string)
  }

  /**
   * `Set-Cookie` for a token. Only Secure and Max-Age vary between calls, so the attributes the
   * `cookie` package formats are kept per (secure, maxAge); the token is base64url, which needs no
   * encoding, and is put in front.
   */
  #setCookie(text: string, issuedAt: number, now: number, secureRequest: boolean): string {
    const options = this.#config.cookie
    let maxAge: number | undefined
    if (this.#maxAge !== undefined) maxAge = Math.max(0, Math.floor(this.#maxAge / 1000) - (now - issuedAt))
    if (this.#idle !== undefined) maxAge = Math.min(maxAge ?? Infinity, Math.floor(this.#idle / 1000))
    const secure = this.#alwaysSecure || (options.secure === 'auto' && secureRequest)
    // One number per (secure, maxAge): maxAge ≥ 0 or none; secure keys ≥ 0, the others < 0.
    const key = secure ? (maxAge ?? -1) + 1 : -((maxAge ?? -1) + 2)
    let attributes = this.#cookieAttributes.get(key)
    if (attributes === undefined) {
      const formatted = stringifySetCookie(this.#name, '', {
        path: options.path,
        ...(options.domain === undefined ? {} : { domain: options.domain }),
        httpOnly: options.httpOnly,
        secure,
        sameSite: options.sameSite === 'None' ? 'none' : options.sameSite === 'Strict' ? 'strict' : 'lax',
        ...(maxAge === undefined ? {} : { maxAge }),
      })
      attributes = formatted.slice(this.#name.length + 1)
      if (this.#cookieAttributes.size >= 256) this.#cookieAttributes.clear()
      this.#cookieAttributes.set(key, attributes)
    }
    return `${this.#name}=${text}${attributes}`
  }
}

/** The first value of request header `name` (lower-case), from raw headers. */
export function headerValue(request: AffinityRequest, name: string): string | undefined {
  const raw = request.req.rawHeaders
  for (let i = 0; i < raw.length; i += 2) {
    const candidate = raw[i] as string
    if (candidate.length === name.length && candidate.toLowerCase() === name) return raw[i + 1]
  }
  return undefined
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
