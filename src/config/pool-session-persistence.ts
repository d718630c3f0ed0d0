/**
 * @module A pool's `sessionPersistence` (Gateway API GEP-1619, the HTTPRoute rule's schema piece, both
 * generations of field names) as a default for every route to the pool: it maps, at config load, onto
 * the pool's own `cookie` / `header` affinity, so it reuses that machinery (tokens, lifetimes, live
 * counts, onUnavailable) instead of adding a second session layer.
 */
import { Affinity, isCookieName, type AffinityConfig } from './affinity-schema.js'
import type { SessionPersistenceConfig } from './httproute-schema.js'

/** Which `Max-Age` a pool's token cookie carries (see TokenSettings.cookieMaxAge). */
export type PoolCookieMaxAge = 'lifetimes' | 'absolute' | 'none'

/** The session name the GEP-1619 block gives, under either field name; undefined = the affinity default. */
export function sessionNameOf(persistence: SessionPersistenceConfig): string | undefined {
  return persistence.sessionName ?? (persistence.type === 'Cookie' ? persistence.cookie?.name : persistence.header?.name)
}

/**
 * What a pool's `sessionPersistence` means as `affinity`: `Cookie` → mode cookie, `Header` → mode
 * header; `sessionName` (`cookie.name`, `header.name`) → the cookie or header name (default: the
 * affinity defaults `latch` and `x-latch-session`, so switching keys keeps a pool's cookie);
 * `absoluteTimeout` → `maxAge`; `idleTimeout` → `idleTimeout`; `cookie.path` → `cookie.path`. The
 * cookie's lifetime type is not an affinity key: see poolCookieMaxAge.
 */
export function sessionPersistenceAffinity(persistence: SessionPersistenceConfig): AffinityConfig {
  const cookie = persistence.type === 'Cookie'
  const base = Affinity.parse({ mode: cookie ? 'cookie' : 'header' })
  const name = sessionNameOf(persistence)
  const lifetimes = { maxAge: persistence.absoluteTimeout, idleTimeout: persistence.idleTimeout }
  if (!cookie) return { ...base, header: { ...base.header, ...lifetimes, ...(name === undefined ? {} : { name }) } }
  const path = persistence.cookie?.path
  return { ...base, cookie: { ...base.cookie, ...lifetimes, ...(name === undefined ? {} : { name }), ...(path === undefined ? {} : { path }) } }
}

/**
 * The `Max-Age` a pool's token cookie carries: with `sessionPersistence`, GEP-1619's lifetime type
 * (`Permanent`: what is left of absoluteTimeout; `Session`, the default: none); with `affinity`,
 * the affinity rule (what is left of maxAge, capped by idleTimeout).
 */
export function poolCookieMaxAge(persistence: SessionPersistenceConfig | undefined): PoolCookieMaxAge {
  if (persistence === undefined) return 'lifetimes'
  const lifetime = persistence.cookie?.lifetimeType ?? persistence.cookieConfig?.lifetimeType ?? 'Session'
  return lifetime === 'Permanent' ? 'absolute' : 'none'
}

/** Problems of a pool's `sessionPersistence` that the rule-level schema piece does not have: [key path below it, message]. */
export function poolSessionPersistenceProblems(persistence: SessionPersistenceConfig): [readonly (string | number)[], string][] {
  const problems: [readonly (string | number)[], string][] = []
  const name = sessionNameOf(persistence)
  if (persistence.type === 'Cookie' && name !== undefined && !isCookieName(name)) {
    problems.push([persistence.sessionName === undefined ? ['cookie', 'name'] : ['sessionName'], `${JSON.stringify(name)} is not a cookie name — expected letters, digits and !#$%&'*+-.^_\`|~`])
  }
  const path = persistence.cookie?.path
  if (path !== undefined && !path.startsWith('/')) problems.push([['cookie', 'path'], 'expected a path starting with "/"'])
  return problems
}
