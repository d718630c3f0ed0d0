/**
 * @module Discovered targets → endpoint specs: canonical URLs, no duplicates, one stable order.
 *
 * DNS servers rotate the order of records between answers; sorting makes every refresh, and every
 * Latch replica asking the same server, produce the same list and the same endpoint ids.
 */
import { isIP } from 'node:net'
import type { EndpointSpec } from '../upstream/upstream-pool.js'
import { endpointIdOf } from '../upstream/endpoint-id.js'
import type { DnsTarget } from './dns-query.js'

/** Builds `scheme://ip:port` specs (IPv6 in brackets) sorted IPv4 first, by address then port. */
export function specsFromTargets(targets: readonly DnsTarget[], scheme: 'http' | 'https', weight: number): EndpointSpec[] {
  const unique = new Map<string, UrlHost>()
  for (const target of targets) {
    const host = isIP(target.address) === 6 ? `[${target.address}]` : target.address
    // The URL parser canonicalises IPv6 text (case, zero compression), so ids match the pool's.
    const url = new URL(`${scheme}://${host}:${target.port}`)
    unique.set(endpointIdOf(url), { host: url.hostname, port: target.port })
  }
  return [...unique.values()].sort(compareHosts).map((target) => ({ url: `${scheme}://${target.host}:${target.port}`, weight }))
}

/** An address as a URL holds it: IPv6 in brackets. */
interface UrlHost {
  readonly host: string
  readonly port: number
}

/** The endpoint ids of `specs`, in order (for logs and comparisons). */
export function specIds(specs: readonly EndpointSpec[]): string[] {
  return specs.map((spec) => endpointIdOf(new URL(spec.url)))
}

function compareHosts(a: UrlHost, b: UrlHost): number {
  const byAddress = compareAddresses(a.host, b.host)
  return byAddress !== 0 ? byAddress : a.port - b.port
}

/** IPv4 before IPv6 (bracketed); IPv4 numerically (10.0.0.2 before 10.0.0.10); IPv6 by canonical text. */
function compareAddresses(a: string, b: string): number {
  const v4a = a.startsWith('[') ? undefined : a.split('.').map(Number)
  const v4b = b.startsWith('[') ? undefined : b.split('.').map(Number)
  if (v4a === undefined || v4b === undefined) return v4a !== undefined ? -1 : v4b !== undefined ? 1 : a < b ? -1 : a > b ? 1 : 0
  for (let index = 0; index < 4; index++) {
    const difference = (v4a[index] ?? 0) - (v4b[index] ?? 0)
    if (difference !== 0) return difference
  }
  return 0
}
