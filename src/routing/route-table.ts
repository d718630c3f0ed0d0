/**
 * @module Compiles Ingress specs and HTTPRoutes into one route table, once, at config load.
 *
 * Both sources share one table: a host's rules from Ingress and from HTTPRoute are one group, ordered
 * by the precedence below (Gateway API's, which extends Ingress's: an Ingress path is a match with no
 * method, header or query conditions).
 *
 * Precedence (Kubernetes Ingress, checked against kubernetes-sigs/ingress-controller-conformance):
 * 1. Host: an exact host beats a wildcard; `*.example.com` matches exactly one extra label; rules
 *    without a host match any host. The most specific host group is chosen first and only its paths
 *    are tried (as ingress-nginx and Envoy-based controllers do: no fall-through to another host).
 * 2. Path, within that host: the longest rule path wins (a trailing "/" in a Prefix rule is ignored);
 *    on equal length Exact beats Prefix, which beats ImplementationSpecific; then declaration order.
 *    `Exact` is a case-sensitive string match; `Prefix` matches whole "/"-separated elements;
 *    `ImplementationSpecific` is a regular expression anchored at the start of the path.
 *    HTTPRoute `*.example.com` matches one or more extra labels (Gateway API); the longest matching
 *    wildcard suffix wins.
 * 2b. HTTPRoute matches, on equal path rank: one with a method beats one without, then more header
 *    conditions, then more query conditions (Gateway API HTTPRouteRule precedence); RegularExpression
 *    paths rank like ImplementationSpecific ones, by the length of the expression.
 * 2c. Still tied (across routes and sources): older `metadata.creationTimestamp` first (none = newest),
 *    then `namespace/name` alphabetically (inline specs without a name last), then order in `routes`;
 *    within one route, rule order, then match order.
 * 3. No match: `defaultBackend`, else 404.
 */
import type { ConfigIssue } from '../errors/config-error.js'
import type { PathType } from '../config/ingress-schema.js'
import type { HttpRouteSource, RouteSource } from '../config/route-sources.js'
import { formatKeyPath, type KeyPath } from '../config/yaml-source.js'
import type { HttpRouteMatchEntry, ValueCondition } from './httproute-compile.js'
import { singlePoolAction, type RouteAction } from './route-action.js'

/** A compiled path rule (an Ingress path, or one match of an HTTPRoute rule), naming its pools. */
export interface PathRule {
  /** `RegularExpression` is HTTPRoute's (whole-path match); Gateway `PathPrefix` is `Prefix`. */
  readonly pathType: PathType | 'RegularExpression'
  /** Exact: the path; Prefix: the path without trailing "/"; regex types: the regex source. */
  readonly path: string
  readonly regex: RegExp | undefined
  /** HTTPRoute conditions (none for Ingress rules): method, headers (names lower-case), query parameters. */
  readonly method: string | undefined
  readonly headers: readonly ValueCondition[]
  readonly queryParams: readonly ValueCondition[]
  /** For a wildcard host group: true when the rule also serves hosts two or more labels deep (HTTPRoute). */
  readonly deepWildcard: boolean
  /** What the rule does: its backends (pools), filters, session persistence. */
  readonly action: RouteAction
  readonly maxBodySize: number | undefined
  /** Human description for logs and 404 diagnostics, e.g. `app.example.com /api Prefix`. */
  readonly description: string
  /** The Ingress source, for annotations (ingress-nginx compatibility); undefined for HTTPRoute rules. */
  readonly source: RouteSource | undefined
  /** The HTTPRoute source; undefined for Ingress rules. */
  readonly httpRoute: HttpRouteSource | undefined
  /** Tie-break rank (creation time, name, order in `routes`), then rule and match (or path) index. */
  readonly rank: readonly [route: number, rule: number, match: number]
}

/** Path rules for one host group, sorted by precedence. */
export interface HostRules {
  readonly rules: readonly PathRule[]
}

/** The whole compiled table, still naming pools by name. */
export interface RouteTable {
  readonly exactHosts: ReadonlyMap<string, HostRules>
  /** Keyed by the wildcard's suffix: `*.example.com` → `example.com`. */
  readonly wildcardHosts: ReadonlyMap<string, HostRules>
  readonly anyHost: HostRules | undefined
  readonly defaultBackend: { readonly action: RouteAction; readonly description: string } | undefined
}

const TYPE_ORDER: Readonly<Record<PathRule['pathType'], number>> = { Exact: 0, Prefix: 1, ImplementationSpecific: 2, RegularExpression: 2 }

const NO_CONDITIONS = { method: undefined, headers: [], queryParams: [] } as const

interface Located {
  readonly source: RouteSource
  readonly path: KeyPath
}

/**
 * Compiles route sources (Ingress) and compiled HTTPRoute matches into one table; problems
 * (duplicates, bad regex, missing path) are added to `issues`.
 */
export function compileRouteTable(sources: readonly RouteSource[], issues: ConfigIssue[], httpMatches: readonly HttpRouteMatchEntry[] = []): RouteTable {
  const groups = new Map<string, { rules: PathRule[]; seen: Map<string, Located> }>()
  const ranks = routeRanks(sources, httpMatches)
  let defaultBackend: (RouteTable['defaultBackend'] & { at: Located }) | undefined
  for (const source of sources) {
    const spec = source.spec
    if (spec.defaultBackend !== undefined) {
      const at: Located = { source, path: [...source.basePath, 'defaultBackend'] }
      if (defaultBackend !== undefined) {
        issues.push(issueAt(at, `a second defaultBackend — only one is allowed (the first is ${where(defaultBackend.at)})`))
      } else {
        defaultBackend = { action: singlePoolAction('defaultBackend', spec.defaultBackend.service.name), description: 'defaultBackend', at }
      }
    }
    ;(spec.rules ?? []).forEach((rule, ruleIndex) => {
      const host = rule.host?.toLowerCase() ?? ''
      const group = groups.get(host) ?? { rules: [] as PathRule[], seen: new Map<string, Located>() }
      groups.set(host, group)
      ;(rule.http?.paths ?? []).forEach((entry, pathIndex) => {
        const at: Located = { source, path: [...source.basePath, 'rules', ruleIndex, 'http', 'paths', pathIndex] }
        const compiled = compilePath(entry.path, entry.pathType, at, issues)
        if (compiled === undefined) return
        const key = `${entry.pathType} ${compiled.path}`
        const earlier = group.seen.get(key)
        if (earlier !== undefined) {
          issues.push(issueAt(at, `duplicate ${entry.pathType} path ${JSON.stringify(entry.path)} for host ${JSON.stringify(host || '*')} — already defined at ${where(earlier)}`))
          return
        }
        group.seen.set(key, at)
        const description = `${host === '' ? '*' : host} ${entry.path ?? ''} ${entry.pathType}`
        const action = singlePoolAction(description, entry.backend.service.name)
        const rank = [ranks.get(source) ?? 0, ruleIndex, pathIndex] as const
        group.rules.push({ ...compiled, ...NO_CONDITIONS, deepWildcard: false, pathType: entry.pathType, action, maxBodySize: entry.maxBodySize, description, source, httpRoute: undefined, rank })
      })
    })
  }
  for (const match of httpMatches) {
    const rule: PathRule = {
      pathType: match.pathType,
      path: match.path,
      regex: match.regex,
      method: match.method,
      headers: match.headers,
      queryParams: match.queryParams,
      deepWildcard: false,
      action: match.action,
      maxBodySize: undefined,
      description: match.description,
      source: undefined,
      httpRoute: match.source,
      rank: [ranks.get(match.source) ?? 0, match.ruleIndex, match.matchIndex],
    }
    for (const host of match.hostnames.length === 0 ? [''] : match.hostnames) {
      const group = groups.get(host) ?? { rules: [] as PathRule[], seen: new Map<string, Located>() }
      groups.set(host, group)
      group.rules.push(host.startsWith('*.') ? { ...rule, deepWildcard: true } : rule)
    }
  }
  const exactHosts = new Map<string, HostRules>()
  const wildcardHosts = new Map<string, HostRules>()
  let anyHost: HostRules | undefined
  for (const [host, group] of groups) {
    const rules = { rules: group.rules.sort(byPrecedence) }
    if (host === '') anyHost = rules
    else if (host.startsWith('*.')) wildcardHosts.set(host.slice(2), rules)
    else exactHosts.set(host, rules)
  }
  const fallback = defaultBackend === undefined ? undefined : { action: defaultBackend.action, description: defaultBackend.description }
  return { exactHosts, wildcardHosts, anyHost, defaultBackend: fallback }
}

function compilePath(path: string | undefined, pathType: PathType, at: Located, issues: ConfigIssue[]): { path: string; regex: RegExp | undefined } | undefined {
  if (pathType === 'ImplementationSpecific') {
    const source = path ?? '/'
    try {
      return { path: source, regex: new RegExp(source.startsWith('^') ? source : `^(?:${source})`) }
    } catch (error) {
      issues.push(issueAt({ ...at, path: [...at.path, 'path'] }, `invalid regular expression ${JSON.stringify(source)}: ${(error as Error).message.replace(/^Invalid regular expression: /, '')} — ImplementationSpecific paths are JavaScript regular expressions anchored at the start`))
      return undefined
    }
  }
  if (path === undefined || !path.startsWith('/')) {
    issues.push(issueAt({ ...at, path: [...at.path, 'path'] }, `${pathType} paths must start with "/", got ${JSON.stringify(path ?? '')} — expected a path such as /api`))
    return undefined
  }
  if (pathType === 'Prefix' && path.length > 1 && path.endsWith('/')) return { path: path.replace(/\/+$/, '') || '/', regex: undefined }
  return { path, regex: undefined }
}

function byPrecedence(a: PathRule, b: PathRule): number {
  return (
    b.path.length - a.path.length ||
    TYPE_ORDER[a.pathType] - TYPE_ORDER[b.pathType] ||
    (a.method === undefined ? 1 : 0) - (b.method === undefined ? 1 : 0) ||
    b.headers.length - a.headers.length ||
    b.queryParams.length - a.queryParams.length ||
    a.rank[0] - b.rank[0] ||
    a.rank[1] - b.rank[1] ||
    a.rank[2] - b.rank[2]
  )
}

/**
 * Orders every route (Ingress source or HTTPRoute) for the last tie-break: the Gateway API's oldest
 * creation timestamp, then `namespace/name`; sources without a timestamp count as newest and
 * unnamed inline specs come after named ones; then their order in `routes`.
 */
function routeRanks(sources: readonly RouteSource[], httpMatches: readonly HttpRouteMatchEntry[]): Map<RouteSource | HttpRouteSource, number> {
  type Keyed = { key: RouteSource | HttpRouteSource; created: number; name: string | undefined; order: number }
  const keyed: Keyed[] = sources.map((source, index) => ({ key: source, created: Infinity, name: source.name === undefined ? undefined : `default/${source.name}`, order: source.order ?? index }))
  for (const route of new Set(httpMatches.map((match) => match.source))) {
    const metadata = route.route.metadata
    const created = metadata?.creationTimestamp === undefined ? NaN : new Date(metadata.creationTimestamp).getTime()
    const name = metadata?.name === undefined ? undefined : `${metadata.namespace ?? 'default'}/${metadata.name}`
    keyed.push({ key: route, created: Number.isNaN(created) ? Infinity : created, name, order: route.order })
  }
  keyed.sort((a, b) => compareNumbers(a.created, b.created) || compareNames(a.name, b.name) || a.order - b.order)
  return new Map(keyed.map((entry, index) => [entry.key, index]))
}

function compareNumbers(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1
}

function compareNames(a: string | undefined, b: string | undefined): number {
  if (a === b) return 0
  if (a === undefined) return 1
  if (b === undefined) return -1
  return a < b ? -1 : 1
}

function where(at: Located): string {
  return `${at.source.file}: ${at.source.displayPrefix}${formatKeyPath(at.path)}`
}

/** An issue located at a key path inside a route source. */
export function issueAt(at: Located, message: string): ConfigIssue {
  const line = at.source.doc?.lineOf(at.path)
  const path = at.source.displayPrefix + formatKeyPath(at.path)
  return line === undefined ? { file: at.source.file, path, message } : { file: at.source.file, path, message, line }
}

/** Every pool name a table refers to, with where, for the unknown-pool check. */
export function* poolReferences(sources: readonly RouteSource[]): Generator<{ pool: string; at: Located }> {
  for (const source of sources) {
    if (source.spec.defaultBackend !== undefined) {
      yield { pool: source.spec.defaultBackend.service.name, at: { source, path: [...source.basePath, 'defaultBackend', 'service', 'name'] } }
    }
    // Holes (undefined) are invalid rules and paths of a spec read leniently (see lenient-ingress).
    for (const [ruleIndex, rule] of (source.spec.rules ?? []).entries()) {
      for (const [pathIndex, entry] of (rule?.http?.paths ?? []).entries()) {
        if (entry === undefined) continue
        yield { pool: entry.backend.service.name, at: { source, path: [...source.basePath, 'rules', ruleIndex, 'http', 'paths', pathIndex, 'backend', 'service', 'name'] } }
      }
    }
  }
}
