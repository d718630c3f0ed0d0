/**
 * @module Warnings about affinity settings that are valid alone but clash with each other.
 *
 * Two `cookie` pools that one browser can reach with the same cookie name, domain and overlapping
 * paths share one cookie slot: each pool's token is foreign to the other, so every switch between
 * them replaces the cookie and loses the session; with nested paths the browser even sends both
 * cookies, and duplicated affinity cookies are treated as absent. The default name (`latch`) and
 * path (`/`) make this easy to hit with a second cookie pool, so it is worth a warning at load.
 */
import { actionPools, type RouteAction } from '../routing/route-action.js'
import type { RouteTable } from '../routing/route-table.js'
import type { Config } from './schema.js'

/** Hosts through which each pool can be reached; `*` stands for "any host" (no host, wildcard, defaultBackend). */
function hostsByPool(routes: RouteTable): Map<string, Set<string>> {
  const hosts = new Map<string, Set<string>>()
  const add = (pool: string, host: string): void => {
    const set = hosts.get(pool) ?? new Set<string>()
    set.add(host)
    hosts.set(pool, set)
  }
  const addAction = (action: RouteAction, host: string): void => {
    for (const pool of actionPools(action)) add(pool, host)
  }
  for (const [host, group] of routes.exactHosts) for (const rule of group.rules) addAction(rule.action, host)
  for (const group of routes.wildcardHosts.values()) for (const rule of group.rules) addAction(rule.action, '*')
  for (const rule of routes.anyHost?.rules ?? []) addAction(rule.action, '*')
  if (routes.defaultBackend !== undefined) addAction(routes.defaultBackend.action, '*')
  return hosts
}

function shareHost(a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean {
  if (a === undefined || b === undefined) return false
  if (a.has('*') || b.has('*')) return true
  for (const host of a) if (b.has(host)) return true
  return false
}

/** True when a browser would send a cookie of path `a` and one of path `b` on some request. */
function pathsOverlap(a: string, b: string): boolean {
  const within = (inner: string, outer: string): boolean => outer === '/' || inner === outer || inner.startsWith(outer.endsWith('/') ? outer : `${outer}/`)
  return within(a, b) || within(b, a)
}

/**
 * `a\0b` for every two pools that are backends of one split rule: a sticky split keeps each client
 * on one of them, so sharing one cookie is what a canary wants (ingress-nginx's canary inherits its
 * main Ingress's cookie), not a collision.
 */
function splitPartners(routes: RouteTable): Set<string> {
  const partners = new Set<string>()
  const addAction = (action: RouteAction): void => {
    for (const a of action.backends) for (const b of action.backends) if (a.pool !== b.pool) partners.add(`${a.pool}\0${b.pool}`)
  }
  for (const group of [...routes.exactHosts.values(), ...routes.wildcardHosts.values(), ...(routes.anyHost === undefined ? [] : [routes.anyHost])]) for (const rule of group.rules) addAction(rule.action)
  if (routes.defaultBackend !== undefined) addAction(routes.defaultBackend.action)
  return partners
}

/** One warning per pair of cookie pools whose affinity cookies would collide in a browser. */
export function cookieCollisionWarnings(config: Config, routes: RouteTable): string[] {
  const hosts = hostsByPool(routes)
  const partners = splitPartners(routes)
  const cookiePools = config.pools.filter((pool) => pool.affinity.mode === 'cookie')
  const warnings: string[] = []
  cookiePools.forEach((a, index) => {
    for (const b of cookiePools.slice(index + 1)) {
      const ca = a.affinity.cookie
      const cb = b.affinity.cookie
      if (ca.name !== cb.name || ca.domain !== cb.domain || !pathsOverlap(ca.path, cb.path) || partners.has(`${a.name}\0${b.name}`)) continue
      // A Domain cookie reaches every host of that domain.
      if (ca.domain === undefined && !shareHost(hosts.get(a.name), hosts.get(b.name))) continue
      warnings.push(
        `pools "${a.name}" and "${b.name}" both use the affinity cookie "${ca.name}" (Path=${ca.path}${ca.path === cb.path ? '' : ` and ${cb.path}`}${ca.domain === undefined ? '' : `, Domain=${ca.domain}`}) on the same host: a browser keeps one such cookie, so a client of both loses its session at each switch — give each pool its own affinity.cookie.name`,
      )
    }
  })
  return warnings
}
