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
import type { PoolCookieMaxAge } from '../config/pool-session-persistence.js'
import type { AffinityStore } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolView } from '../upstream/pool-view.js'
import { readCookie, withoutCookie } from './cookie-jar.js'
import { EndpointKeyIndex } from './endpoint-key-index.js'
import type { SecretRing } from './secret-ring.js'
import { noSession, type AffinityOutcome, type AffinityRequest, type SessionAffinity, type SessionLookup } from './session-affinity.js'
import { newSessionId } from './session-id.js'
import { SessionTokenCodec, type SessionIdentity, type SessionToken } from './session-token.js'

/** Cookie attributes of a token cookie (a pool's `affinity.cookie`, or a rule's defaults). */
export interface TokenCookie {
  readonly path: string
  readonly domain?: string | undefined
  readonly secure: 'auto' | 'always' | 'never'
  readonly httpOnly: boolean
  readonly sameSite: 'Lax' | 'Strict' | 'None'
  readonly forwardToUpstream: boolean
}

/**
 * What one token affinity needs to know. Pool affinity and a rule's session persistence
 * (proxying/rule-session.ts) differ only here: the token's scope, where live sessions are counted, and
 * what `Max-Age` the cookie carries.
 */
export interface TokenSettings {
  readonly mode: 'cookie' | 'header'
  /** Cookie name, or header name (lower-case). */
  readonly name: string
  /** Live-session counting scope in the store. */
  readonly countScope: string
  /** Absolute lifetime from the first binding (ms). */
  readonly maxAgeMs: number | undefined
  /** Sliding lifetime (ms). */
  readonly idleMs: number | undefined
  /** How long a session seen once counts as live (ms). */
  readonly liveTtlMs: number
  /**
   * `lifetimes`: Max-Age = what is left of maxAge, capped by idleTimeout (pool affinity); `absolute`:
   * what is left of maxAge only (GEP-1619 `Permanent`); `none`: a browser-session cookie (`Session`).
   */
  readonly cookieMaxAge: 'lifetimes' | 'absolute' | 'none'
  readonly cookie: TokenCookie
}

/** The settings of a pool's `cookie` or `header` affinity (`cookieMaxAge`: see poolCookieMaxAge). */
export function poolTokenSettings(mode: 'cookie' | 'header', pool: PoolView, config: AffinityConfig, cookieMaxAge: PoolCookieMaxAge = 'lifetimes'): TokenSettings {
  const options = mode === 'cookie' ? config.cookie : config.header
  return {
    mode,
    name: mode === 'cookie' ? config.cookie.name : config.header.name.toLowerCase(),
    countScope: `${pool.name}:${mode}`,
    maxAgeMs: options.maxAge,
    idleMs: options.idleTimeout,
    liveTtlMs: liveTtl(options.idleTimeout, config.liveSessionWindow),
    cookieMaxAge,
    cookie: config.cookie,
  }
}

/**
 * Tokens carry whole seconds, so one stays valid up to a second past idleTimeout: the live count must
 * not reach zero (a draining Pod's preStop waits for it) while a session can still come back.
 */
export function liveTtl(idleMs: number | undefined, windowMs: number): number {
  return Math.min(idleMs === undefined ? Infinity : idleMs + 1000, windowMs)
}

/** A pool's own `cookie` or `header` affinity: tokens scoped to the pool and mode. */
export function poolTokenAffinity(mode: 'cookie' | 'header', pool: PoolView, config: AffinityConfig, ring: SecretRing, store: AffinityStore, cookieMaxAge: PoolCookieMaxAge = 'lifetimes'): TokenAffinity {
  const settings = poolTokenSettings(mode, pool, config, cookieMaxAge)
  return new TokenAffinity(settings, new SessionTokenCodec(settings.countScope, ring), new EndpointKeyIndex(pool, ring), store)
}

/** Signed-token affinity carried in a cookie or a header. */
export class TokenAffinity implements SessionAffinity {
  readonly mode: 'cookie' | 'header'
  readonly #settings: TokenSettings
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

  /** Rule sessions (proxying/rule-session.ts) share one codec (one token scope) over every backend pool. */
  constructor(settings: TokenSettings, codec: SessionTokenCodec, index: EndpointKeyIndex, store: AffinityStore) {
    this.mode = settings.mode
    this.#settings = settings
    this.#store = store
    this.#codec = codec
    this.#index = index
    this.#scope = settings.countScope
    this.#name = settings.name
    const cookie = settings.cookie
    this.#alwaysSecure = cookie.sameSite === 'None' || cookie.secure === 'always' || (cookie.secure === 'auto' && cookiePrefix(settings.name) !== undefined)
    this.#maxAge = settings.maxAgeMs
    this.#idle = settings.idleMs
    this.#liveTtl = settings.liveTtlMs
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

  /** The cookie or header name and mode, as `mode:name`: affinities with the same one read the same token. */
  get carrier(): string {
    return `${this.mode}:${this.#name}`
  }

  /** The request's token text, without side effects: undefined when absent, null when duplicated. */
  tokenText(request: AffinityRequest): string | undefined | null {
    if (this.mode === 'header') return headerValue(request, this.#name)
    const cookie = readCookie(request.cookieHeader, this.#name)
    return cookie.count === 0 ? undefined : cookie.count > 1 ? null : (cookie.value as string)
  }

  /** Whether `text` is a token of this affinity's scope that verified before (a cache lookup, no HMAC). */
  verifiedBefore(text: string): boolean {
    return this.#codec.cached(text) !== undefined
  }

  /** The endpoint of this pool that a verified token (of this codec's scope) names, if any. */
  locate(token: SessionToken): Endpoint | undefined {
    return this.#index.lookup(token.keyId, token.endpointKey)
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
    if (!this.#settings.cookie.forwardToUpstream) request.setUpstreamCookie(withoutCookie(request.cookieHeader as string, this.#name))
    return cookie.count > 1 ? null : (cookie.value as string)
  }

  /**
   * `Set-Cookie` for a token. Only Secure and Max-Age vary between calls, so the attributes the
   * `cookie` package formats are kept per (secure, maxAge); the token is base64url, which needs no
   * encoding, and is put in front.
   */
  #setCookie(text: string, issuedAt: number, now: number, secureRequest: boolean): string {
    const options = this.#settings.cookie
    const kind = this.#settings.cookieMaxAge
    let maxAge: number | undefined
    if (kind !== 'none' && this.#maxAge !== undefined) maxAge = Math.max(0, Math.floor(this.#maxAge / 1000) - (now - issuedAt))
    if (kind === 'lifetimes' && this.#idle !== undefined) maxAge = Math.min(maxAge ?? Infinity, Math.floor(this.#idle / 1000))
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
