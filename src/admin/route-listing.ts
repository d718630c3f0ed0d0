/**
 * @module `GET /routes`: the compiled routing table, in the order requests are matched.
 */
import type { RouteAction } from '../routing/route-action.js'
import type { HostRules, RouteTable } from '../routing/route-table.js'

/** One routing rule; `host` is `*` for rules without a host; the default backend has no path. */
export interface RouteRow {
  readonly host: string
  readonly path: string | null
  readonly pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific' | 'RegularExpression' | 'defaultBackend'
  /** The rule's first backend pool (its only one, for Ingress rules). */
  readonly pool: string
  /** Every backend of the rule with its weight. */
  readonly backends: readonly { readonly pool: string; readonly weight: number }[]
}

function backendsOf(action: RouteAction): { pool: string; backends: { pool: string; weight: number }[] } {
  const backends = action.backends.map((backend) => ({ pool: backend.pool, weight: backend.weight }))
  return { pool: backends[0]?.pool ?? '', backends }
}

/** Exact hosts first, then wildcard hosts, then rules for any host, then the default backend. */
export function routeRows(table: RouteTable): RouteRow[] {
  const rows: RouteRow[] = []
  const add = (host: string, group: HostRules): void => {
    for (const rule of group.rules) rows.push({ host, path: rule.path, pathType: rule.pathType, ...backendsOf(rule.action) })
  }
  for (const [host, group] of table.exactHosts) add(host, group)
  for (const [suffix, group] of table.wildcardHosts) add(`*.${suffix}`, group)
  if (table.anyHost !== undefined) add('*', table.anyHost)
  if (table.defaultBackend !== undefined) rows.push({ host: '*', path: null, pathType: 'defaultBackend', ...backendsOf(table.defaultBackend.action) })
  return rows
}
