/**
 * @module Matches a request's host, canonical path and (for HTTPRoute rules) method, headers and query
 * against the compiled route table.
 *
 * Built once per config from a RouteTable (see route-table.ts for the precedence rules); every
 * match result is pre-allocated, so matching allocates nothing per request (a percent-encoded query
 * value that a rule compares is the one exception: it is decoded). A host group with many rules gets
 * an index by the first path segment (hashed, so looking it up allocates nothing); each bucket holds
 * the rules that can match such a path, still in precedence order.
 */
import type { IncomingHttpHeaders } from 'node:http'
import type { ValueCondition } from './httproute-compile.js'
import type { RouteAction } from './route-action.js'
import type { PathRule, RouteTable } from './route-table.js'

/** What HTTPRoute conditions read of a request (an IncomingMessage fits). */
export interface MatchRequest {
  readonly method?: string | undefined
  readonly headers: IncomingHttpHeaders
}

/** What a request routes to. */
export interface RouteMatch<P> {
  /** What the runtime built for the rule's action (one per action: rules sharing an action share it). */
  readonly target: P
  /** The rule's path for Prefix rules (what `ReplacePrefixMatch` replaces), else undefined. */
  readonly prefix: string | undefined
  readonly maxBodySize: number | undefined
  /** e.g. `app.example.com /api Prefix` or `defaultBackend`. */
  readonly description: string
}

const EXACT = 0
const PREFIX = 1
const REGEX = 2

interface BoundRule<P> {
  readonly kind: number
  readonly path: string
  /** The path's last character code: a cheap first test before startsWith (rules of one bucket mostly differ at the end). */
  readonly lastCode: number
  readonly regex: RegExp | undefined
  /** True when the rule has a method, header or query condition. */
  readonly conditional: boolean
  readonly method: string | undefined
  readonly headers: readonly ValueCondition[]
  readonly queryParams: readonly ValueCondition[]
  /** Hash of the path's first segment (see segmentHash); undefined = the rule can match any first segment. */
  readonly segment: number | undefined
  readonly deepWildcard: boolean
  readonly match: RouteMatch<P>
}

/** The rules of one host group, with an index by first path segment when there are many. */
interface HostGroup<P> {
  readonly rules: readonly BoundRule<P>[]
  /** First-segment hash → the rules that can match (precedence order); undefined for small groups. */
  readonly bySegment: ReadonlyMap<number, readonly BoundRule<P>[]> | undefined
  /** The rules that match whatever the first segment (`/` prefixes, regexes), for unindexed segments. */
  readonly anySegment: readonly BoundRule<P>[]
}

/** Groups with fewer rules are scanned in full: the index would not pay for its hash. */
const INDEX_FROM = 16

/** Host and path router with Kubernetes Ingress and Gateway API HTTPRoute semantics. */
export class Router<P> {
  readonly #exact: Map<string, HostGroup<P>>
  /** Keyed by the wildcard's suffix; rules that match one extra label (Ingress and HTTPRoute). */
  readonly #wildcard: Map<string, HostGroup<P>>
  /** Keyed by the wildcard's suffix; HTTPRoute rules, which also match two or more extra labels. */
  readonly #deepWildcard: Map<string, HostGroup<P>>
  readonly #any: HostGroup<P> | undefined
  readonly #fallback: RouteMatch<P> | undefined

  constructor(table: RouteTable, resolveAction: (action: RouteAction) => P) {
    const resolved = new Map<RouteAction, P>()
    const resolve = (action: RouteAction): P => {
      let target = resolved.get(action)
      if (target === undefined) resolved.set(action, (target = resolveAction(action)))
      return target
    }
    const bound = new Map<PathRule, BoundRule<P>>()
    const bind = (rules: readonly PathRule[]): HostGroup<P> => {
      const list = rules.map((rule) => {
        let boundRule = bound.get(rule)
        if (boundRule === undefined) bound.set(rule, (boundRule = bindRule(rule, resolve(rule.action))))
        return boundRule
      })
      return groupOf(list)
    }
    this.#exact = new Map([...table.exactHosts].map(([host, group]) => [host, bind(group.rules)]))
    this.#wildcard = new Map([...table.wildcardHosts].map(([suffix, group]) => [suffix, bind(group.rules)]))
    this.#deepWildcard = new Map()
    for (const [suffix, group] of table.wildcardHosts) {
      const deep = group.rules.filter((rule) => rule.deepWildcard)
      if (deep.length > 0) this.#deepWildcard.set(suffix, bind(deep))
    }
    this.#any = table.anyHost === undefined ? undefined : bind(table.anyHost.rules)
    this.#fallback =
      table.defaultBackend === undefined
        ? undefined
        : { target: resolve(table.defaultBackend.action), prefix: undefined, maxBodySize: undefined, description: table.defaultBackend.description }
  }

  /**
   * Routes a normalised host (see normalizeHost) and canonical path; undefined means 404. HTTPRoute
   * conditions read `request` (method, headers) and the query of `target` (the canonical path plus the
   * query, as parseRequestTarget returns it); without them a conditional rule does not match.
   */
  match(host: string, path: string, request?: MatchRequest, target?: string): RouteMatch<P> | undefined {
    const group = this.#hostGroup(host)
    if (group !== undefined) {
      let rules = group.rules
      if (group.bySegment !== undefined) rules = group.bySegment.get(segmentHash(path)) ?? group.anySegment
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i] as BoundRule<P>
        if (matchesPath(rule, path) && (!rule.conditional || matchesConditions(rule, request, target, path.length))) return rule.match
      }
    }
    return this.#fallback
  }

  /** The most specific host group: exact host, then the longest matching wildcard suffix, then rules for any host. */
  #hostGroup(host: string): HostGroup<P> | undefined {
    const exact = this.#exact.get(host)
    if (exact !== undefined) return exact
    if (this.#wildcard.size > 0) {
      let dot = host.indexOf('.')
      if (dot > 0) {
        const wildcard = this.#wildcard.get(host.slice(dot + 1))
        if (wildcard !== undefined) return wildcard
        if (this.#deepWildcard.size > 0) {
          for (dot = host.indexOf('.', dot + 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
            const deep = this.#deepWildcard.get(host.slice(dot + 1))
            if (deep !== undefined) return deep
          }
        }
      }
    }
    return this.#any
  }
}

function bindRule<P>(rule: PathRule, target: P): BoundRule<P> {
  const kind = rule.pathType === 'Exact' ? EXACT : rule.pathType === 'Prefix' ? PREFIX : REGEX
  const anySegment = kind === REGEX || (kind === PREFIX && rule.path === '/')
  return {
    kind,
    path: rule.path,
    lastCode: rule.path.charCodeAt(rule.path.length - 1),
    regex: rule.regex,
    conditional: rule.method !== undefined || rule.headers.length > 0 || rule.queryParams.length > 0,
    method: rule.method,
    headers: rule.headers,
    queryParams: rule.queryParams,
    segment: anySegment ? undefined : segmentHash(rule.path),
    deepWildcard: rule.deepWildcard,
    match: { target, prefix: rule.pathType === 'Prefix' ? rule.path : undefined, maxBodySize: rule.maxBodySize, description: rule.description },
  }
}

function groupOf<P>(rules: readonly BoundRule<P>[]): HostGroup<P> {
  const anySegment = rules.filter((rule) => rule.segment === undefined)
  if (rules.length < INDEX_FROM) return { rules, bySegment: undefined, anySegment }
  const bySegment = new Map<number, BoundRule<P>[]>()
  for (const rule of rules) if (rule.segment !== undefined && !bySegment.has(rule.segment)) bySegment.set(rule.segment, rules.filter((other) => other.segment === undefined || other.segment === rule.segment))
  return { rules, bySegment, anySegment }
}

/**
 * A hash of the path's first segment (between the leading "/" and the next "/" or the end). Rules
 * of one bucket share it; a collision only adds candidates, each still checked in full.
 */
function segmentHash(path: string): number {
  let hash = 0
  for (let i = 1; i < path.length; i++) {
    const code = path.charCodeAt(i)
    if (code === 47) break
    hash = (Math.imul(hash, 31) + code) | 0
  }
  return hash
}

function matchesPath<P>(rule: BoundRule<P>, path: string): boolean {
  if (rule.kind === EXACT) return path === rule.path
  if (rule.kind === PREFIX) {
    const prefix = rule.path
    if (prefix === '/') return true
    // Element-wise: "/foo" matches "/foo", "/foo/" and "/foo/bar", never "/foobar".
    const length = prefix.length
    if (path.charCodeAt(length - 1) !== rule.lastCode || (path.length !== length && path.charCodeAt(length) !== 47)) return false
    return path.startsWith(prefix)
  }
  return (rule.regex as RegExp).test(path)
}

function matchesConditions<P>(rule: BoundRule<P>, request: MatchRequest | undefined, target: string | undefined, pathLength: number): boolean {
  if (request === undefined) return false
  if (rule.method !== undefined && request.method !== rule.method) return false
  const headers = rule.headers
  for (let i = 0; i < headers.length; i++) {
    const condition = headers[i] as ValueCondition
    const value = request.headers[condition.name]
    if (value === undefined) return false
    // Node joins repeated headers with ", " (set-cookie stays a list: its values are joined the same way).
    if (!valueMatches(condition, typeof value === 'string' ? value : value.join(', '))) return false
  }
  const queryParams = rule.queryParams
  for (let i = 0; i < queryParams.length; i++) {
    if (target === undefined || !queryMatches(queryParams[i] as ValueCondition, target, pathLength)) return false
  }
  return true
}

function valueMatches(condition: ValueCondition, value: string): boolean {
  return condition.exact !== undefined ? value === condition.exact : (condition.regex as RegExp).test(value)
}

/**
 * Compares the first occurrence of a query parameter in `target` (whose query starts after the path)
 * without building a parameter list; names are compared as sent (the spec: case-sensitive, exact).
 */
function queryMatches(condition: ValueCondition, target: string, pathLength: number): boolean {
  if (target.charCodeAt(pathLength) !== 63 /* ? */) return false
  const name = condition.name
  let start = pathLength + 1
  while (start <= target.length) {
    let end = target.indexOf('&', start)
    if (end === -1) end = target.length
    const equals = start + name.length
    if ((equals === end || target.charCodeAt(equals) === 61 /* = */) && target.startsWith(name, start)) {
      const valueStart = equals === end ? end : equals + 1
      return rawValueMatches(condition, target, valueStart, end)
    }
    start = end + 1
  }
  return false
}

function rawValueMatches(condition: ValueCondition, target: string, start: number, end: number): boolean {
  const exact = condition.exact
  if (exact !== undefined && end - start === exact.length && target.startsWith(exact, start)) return true
  const encoded = hasCharBefore(target, '%', start, end) || hasCharBefore(target, '+', start, end)
  if (exact !== undefined && !encoded) return false
  let value = target.slice(start, end)
  if (encoded) {
    try {
      value = decodeURIComponent(value.replaceAll('+', ' '))
    } catch {
      return false
    }
  }
  return valueMatches(condition, value)
}

function hasCharBefore(text: string, char: string, start: number, end: number): boolean {
  const at = text.indexOf(char, start)
  return at !== -1 && at < end
}

/**
 * Lower-cases a Host header value and strips its port and a trailing dot
 * (`App.Example.com.:8080` → `app.example.com`, `[::1]:80` → `[::1]`).
 */
export function normalizeHost(host: string | undefined): string {
  if (host === undefined || host === '') return ''
  let end = host.length
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']')
    end = close === -1 ? end : close + 1
  } else {
    const colon = host.lastIndexOf(':')
    if (colon !== -1) end = colon
  }
  if (host.charCodeAt(end - 1) === 46 /* . */) end--
  const bare = end === host.length ? host : host.slice(0, end)
  return hasUpper(bare) ? bare.toLowerCase() : bare
}

function hasUpper(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code >= 65 && code <= 90) return true
  }
  return false
}
