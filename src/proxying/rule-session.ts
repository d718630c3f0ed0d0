/**
 * @module Which backend of a multi-backend rule a request's session belongs to, so a session stays
 * on its backend (pool) and endpoint whatever the weights say now (sticky canaries).
 *
 * Two kinds of session can tell:
 * - rule-level session persistence (GEP-1619 `sessionPersistence` on the rule): one token scope for
 *   the whole rule (`rule:<id>:<type>`); the token's keyed endpoint id is an HMAC of pool + endpoint,
 *   so looking it up in each backend pool's index finds the backend and the endpoint at once;
 * - the backend pools' own `cookie` / `header` affinity (Ingress canaries, quick mode): a pool's token
 *   verifies only in its own scope, so the pool whose affinity accepts it is the session's.
 *
 * The lookup that found the backend is handed to that backend's affinity (PresetAffinity), so the
 * session step does not read and verify the token a second time.
 */
import { EndpointKeyIndex } from '../affinity/endpoint-key-index.js'
import type { SecretRing } from '../affinity/secret-ring.js'
import type { AffinityOutcome, AffinityRequest, SessionAffinity, SessionLookup } from '../affinity/session-affinity.js'
import { SessionTokenCodec } from '../affinity/session-token.js'
import { liveTtl, TokenAffinity, type TokenSettings } from '../affinity/token-affinity.js'
import type { SessionPersistence } from '../routing/route-action.js'
import type { AffinityStore, MaybePromise } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolView } from '../upstream/pool-view.js'

/** How long a rule session seen once counts as live when it has no idleTimeout (as pools' liveSessionWindow). */
const RULE_LIVE_WINDOW_MS = 30 * 60_000

/** Live-session counting scope of a rule's sessions on one backend pool (admin API, metrics). */
export function ruleSessionScope(ruleId: string, pool: string): string {
  return `rule:${ruleId}:${pool}`
}

/**
 * A token affinity whose next lookup for one request may already be known (found while choosing the
 * backend). One slot: a request whose body is read before dispatch may lose it to another request,
 * and then simply looks up again.
 */
export class PresetAffinity implements SessionAffinity {
  readonly mode: 'cookie' | 'header'
  readonly inner: TokenAffinity
  #request: AffinityRequest | undefined
  #lookup: SessionLookup | undefined

  constructor(inner: TokenAffinity) {
    this.inner = inner
    this.mode = inner.mode
  }

  preset(request: AffinityRequest, lookup: SessionLookup): void {
    this.#request = request
    this.#lookup = lookup
  }

  lookup(request: AffinityRequest): SessionLookup {
    if (this.#request === request) {
      const lookup = this.#lookup as SessionLookup
      this.#request = undefined
      this.#lookup = undefined
      return lookup
    }
    return this.inner.lookup(request)
  }

  bind(lookup: SessionLookup, picked: Endpoint, request: AffinityRequest, rebinding: boolean): MaybePromise<Endpoint> {
    return this.inner.bind(lookup, picked)
  }

  commit(lookup: SessionLookup, endpoint: Endpoint, outcome: AffinityOutcome | undefined, request: AffinityRequest, out: string[]): void {
    this.inner.commit(lookup, endpoint, outcome, request, out)
  }

  sessionCounts(): ReadonlyMap<string, number> {
    return this.inner.sessionCounts()
  }
}

/** Finds the backend (index) a request's session is bound to; -1 when it has none the rule knows. */
export interface SessionLocator {
  locate(request: AffinityRequest): number
}

/** The token settings of a rule's `sessionPersistence` on one backend pool. */
export function ruleTokenSettings(ruleId: string, pool: string, persistence: SessionPersistence): TokenSettings {
  const cookie = persistence.type === 'Cookie'
  return {
    mode: cookie ? 'cookie' : 'header',
    name: cookie ? persistence.sessionName : persistence.sessionName.toLowerCase(),
    countScope: ruleSessionScope(ruleId, pool),
    maxAgeMs: persistence.absoluteTimeoutMs,
    idleMs: persistence.idleTimeoutMs,
    liveTtlMs: liveTtl(persistence.idleTimeoutMs, Math.min(RULE_LIVE_WINDOW_MS, persistence.absoluteTimeoutMs ?? Infinity)),
    // GEP-1619: a Permanent cookie carries Max-Age = absoluteTimeout (what is left of it), a Session one none.
    cookieMaxAge: persistence.lifetimeType === 'Permanent' ? 'absolute' : 'none',
    cookie: { path: persistence.cookiePath ?? '/', domain: undefined, secure: 'auto', httpOnly: true, sameSite: 'Lax', forwardToUpstream: false },
  }
}

/** Rule-level session persistence: one token affinity per backend pool, all under the rule's token scope. */
export class RuleSessions implements SessionLocator {
  /** By backend index. */
  readonly affinities: readonly PresetAffinity[]

  constructor(ruleId: string, persistence: SessionPersistence, pools: readonly PoolView[], ring: SecretRing, store: AffinityStore) {
    const codec = new SessionTokenCodec(`rule:${ruleId}:${persistence.type}`, ring)
    this.affinities = pools.map((pool) => new PresetAffinity(new TokenAffinity(ruleTokenSettings(ruleId, pool.name, persistence), codec, new EndpointKeyIndex(pool, ring), store)))
  }

  locate(request: AffinityRequest): number {
    const affinities = this.affinities
    const first = affinities[0] as PresetAffinity
    const lookup = first.inner.lookup(request)
    const token = lookup.token
    if (token === undefined) return -1
    if (lookup.bound !== undefined) {
      first.preset(request, lookup)
      return 0
    }
    for (let i = 1; i < affinities.length; i++) {
      const affinity = affinities[i] as PresetAffinity
      const bound = affinity.inner.locate(token)
      if (bound !== undefined) {
        affinity.preset(request, { bound, boundGone: false, problem: undefined, key: undefined, token, bindable: true })
        return i
      }
    }
    // A valid session whose endpoint is in none of the backends (its pool left the rule, or the
    // endpoint left its pool): the backend is chosen anew and the session step rebinds it there.
    return -1
  }
}

/** Sessions of the backend pools' own token affinity (undefined entries: a pool without cookie/header affinity). */
export class PoolSessions implements SessionLocator {
  readonly affinities: readonly (PresetAffinity | undefined)[]
  /**
   * Set when every pool's token travels in the same cookie or header (quick mode --canary, an Ingress
   * canary inheriting its main's cookie): a pool's token fails every other pool's verification, and
   * failures are not cached, so asking the pools in turn would cost an HMAC per request for each
   * pool before the client's own.
   */
  readonly #shared: PresetAffinity | undefined

  constructor(affinities: readonly (PresetAffinity | undefined)[]) {
    this.affinities = affinities
    const defined = affinities.filter((affinity) => affinity !== undefined)
    this.#shared = new Set(defined.map((affinity) => affinity.inner.carrier)).size === 1 ? defined[0] : undefined
  }

  locate(request: AffinityRequest): number {
    const affinities = this.affinities
    if (this.#shared !== undefined) {
      // A returning session: one token read, then each pool's cache of verified tokens (no HMAC).
      const text = this.#shared.inner.tokenText(request)
      if (typeof text === 'string') {
        for (let i = 0; i < affinities.length; i++) {
          const affinity = affinities[i]
          if (affinity === undefined || !affinity.inner.verifiedBefore(text)) continue
          const lookup = affinity.inner.lookup(request)
          // Expired: no session the rule knows (the weights choose anew), as below.
          if (lookup.token === undefined) break
          affinity.preset(request, lookup)
          return i
        }
      }
    }
    for (let i = 0; i < affinities.length; i++) {
      const affinity = affinities[i]
      if (affinity === undefined) continue
      const lookup = affinity.inner.lookup(request)
      // The pool's own token, even when its endpoint left: the pool's onUnavailable rules apply there.
      if (lookup.token !== undefined) {
        affinity.preset(request, lookup)
        return i
      }
    }
    return -1
  }
}
