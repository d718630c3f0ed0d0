/**
 * @module Compiles HTTPRoutes, once at config load, into RouteActions (what a rule does) and match
 * entries (when it applies) that route-table.ts merges with Ingress rules into one table.
 *
 * Every field of the spec is either compiled, refused with a `latch check` error, or named in a
 * warning (ExtensionRef and CORS filters, backendRefs of another group or kind); `parentRefs`,
 * `port` and `namespace` have no meaning for Latch and are accepted silently, as the README says.
 */
import type { ConfigIssue } from '../errors/config-error.js'
import type { HTTPBackendRefConfig, HTTPRouteFilterConfig, HTTPRouteMatchConfig, HTTPRouteRuleConfig, SessionPersistenceConfig } from '../config/httproute-schema.js'
import type { HttpRouteSource } from '../config/route-sources.js'
import { formatKeyPath, type KeyPath } from '../config/yaml-source.js'
import type { BackendRef, HeaderModifier, PathModifier, RouteAction, RouteFilter, SessionPersistence } from './route-action.js'

/** Session name when a rule's `sessionPersistence` gives none (the spec leaves it to the implementation). */
export const DEFAULT_SESSION_NAME = 'latch-route-session'

/** A compiled header or query parameter condition. */
export interface ValueCondition {
  /** Header names lower-case; query parameter names as written (they are case-sensitive). */
  readonly name: string
  /** Exact value, or undefined when `regex` is set. */
  readonly exact: string | undefined
  /** Whole-value regular expression (`RegularExpression` type). */
  readonly regex: RegExp | undefined
}

/** One `matches[]` entry of one rule: what route-table.ts turns into a PathRule per hostname. */
export interface HttpRouteMatchEntry {
  /** Lower-case hostnames, `*.` wildcards included; empty = any host. */
  readonly hostnames: readonly string[]
  readonly pathType: 'Exact' | 'Prefix' | 'RegularExpression'
  /** Exact: the path; Prefix: without trailing "/"; RegularExpression: its source. */
  readonly path: string
  readonly regex: RegExp | undefined
  readonly method: string | undefined
  readonly headers: readonly ValueCondition[]
  readonly queryParams: readonly ValueCondition[]
  readonly action: RouteAction
  readonly description: string
  readonly ruleIndex: number
  readonly matchIndex: number
  readonly source: HttpRouteSource
}

interface Ctx {
  readonly source: HttpRouteSource
  readonly issues: ConfigIssue[]
  readonly warnings: string[]
}

/** Compiles every HTTPRoute; errors go to `issues`, notes about ignored fields to `warnings`. */
export function compileHttpRoutes(sources: readonly HttpRouteSource[], issues: ConfigIssue[], warnings: string[]): HttpRouteMatchEntry[] {
  const entries: HttpRouteMatchEntry[] = []
  for (const source of sources) {
    const ctx: Ctx = { source, issues, warnings }
    const spec = source.route.spec
    const hostnames = [...new Set((spec.hostnames ?? []).map((host) => host.toLowerCase()))]
    const rules = spec.rules ?? []
    if (rules.length === 0) {
      issues.push(issueIn(source, ['spec'], 'no rules — expected spec.rules with at least one rule that has backendRefs (a pool) or a RequestRedirect filter'))
      continue
    }
    rules.forEach((rule, ruleIndex) => {
      const action = compileAction(rule, ruleIndex, ctx)
      if (action === undefined) return
      const matches: HTTPRouteMatchConfig[] = rule.matches === undefined || rule.matches.length === 0 ? [{ path: { type: 'PathPrefix', value: '/' } }] : rule.matches
      matches.forEach((match, matchIndex) => {
        const entry = compileMatch(match, [...rulePath(ruleIndex), 'matches', matchIndex], ctx)
        if (entry === undefined) return
        const label = `${routeLabel(source)} rules[${ruleIndex}]${matches.length > 1 ? `.matches[${matchIndex}]` : ''}`
        entries.push({ ...entry, hostnames, action, description: `${label} ${describeMatch(entry)}`, ruleIndex, matchIndex, source })
      })
    })
  }
  return entries
}

/** `httproute default/shop` (or the key path of an unnamed inline route). */
export function routeLabel(source: HttpRouteSource): string {
  const name = source.route.metadata?.name
  if (name === undefined) return `httproute ${source.displayPrefix}${formatKeyPath(source.basePath) || source.file}`
  return `httproute ${source.route.metadata?.namespace ?? 'default'}/${name}`
}

function describeMatch(entry: Omit<HttpRouteMatchEntry, 'hostnames' | 'action' | 'description' | 'ruleIndex' | 'matchIndex' | 'source'>): string {
  const parts = [`${entry.pathType === 'Prefix' ? 'PathPrefix' : entry.pathType} ${entry.path}`]
  if (entry.method !== undefined) parts.push(entry.method)
  for (const header of entry.headers) parts.push(`header ${header.name}`)
  for (const query of entry.queryParams) parts.push(`query ${query.name}`)
  return parts.join(', ')
}

function rulePath(ruleIndex: number): KeyPath {
  return ['spec', 'rules', ruleIndex]
}

function compileMatch(match: HTTPRouteMatchConfig, at: KeyPath, ctx: Ctx): Omit<HttpRouteMatchEntry, 'hostnames' | 'action' | 'description' | 'ruleIndex' | 'matchIndex' | 'source'> | undefined {
  const type = match.path?.type ?? 'PathPrefix'
  const value = match.path?.value ?? '/'
  let regex: RegExp | undefined
  if (type === 'RegularExpression') {
    regex = compileRegex(value, [...at, 'path', 'value'], ctx)
    if (regex === undefined) return undefined
  }
  const headers = conditions(match.headers ?? [], (name) => name.toLowerCase(), [...at, 'headers'], ctx)
  const queryParams = conditions(match.queryParams ?? [], (name) => name, [...at, 'queryParams'], ctx)
  if (headers === undefined || queryParams === undefined) return undefined
  const path = type === 'PathPrefix' && value.length > 1 && value.endsWith('/') ? value.replace(/\/+$/, '') || '/' : value
  return { pathType: type === 'PathPrefix' ? 'Prefix' : type, path, regex, method: match.method, headers, queryParams }
}

/** Compiles header or query conditions; a repeated name counts only the first time (the spec says so). */
function conditions(list: readonly { type: 'Exact' | 'RegularExpression'; name: string; value: string }[], key: (name: string) => string, at: KeyPath, ctx: Ctx): ValueCondition[] | undefined {
  const out: ValueCondition[] = []
  let failed = false
  list.forEach((condition, index) => {
    const name = key(condition.name)
    if (out.some((earlier) => earlier.name === name)) return
    if (condition.type === 'Exact') out.push({ name, exact: condition.value, regex: undefined })
    else {
      const regex = compileRegex(condition.value, [...at, index, 'value'], ctx)
      if (regex === undefined) failed = true
      else out.push({ name, exact: undefined, regex })
    }
  })
  return failed ? undefined : out
}

/** A whole-value regular expression (as Envoy's RE2 full match): `^(?:...)$`. */
function compileRegex(source: string, at: KeyPath, ctx: Ctx): RegExp | undefined {
  try {
    return new RegExp(`^(?:${source})$`)
  } catch (error) {
    ctx.issues.push(issueIn(ctx.source, at, `invalid regular expression ${JSON.stringify(source)}: ${(error as Error).message.replace(/^Invalid regular expression: /, '')} — expected a JavaScript regular expression, matched against the whole value`))
    return undefined
  }
}

function compileAction(rule: HTTPRouteRuleConfig, ruleIndex: number, ctx: Ctx): RouteAction | undefined {
  const at = rulePath(ruleIndex)
  const source = ctx.source
  const id = `httproute/${source.route.metadata?.namespace ?? 'default'}/${source.route.metadata?.name ?? `routes-${source.order}`}/${rule.name ?? `rule-${ruleIndex}`}`
  const filters = compileFilters(rule.filters ?? [], [...at, 'filters'], rule, ctx)
  const backends = (rule.backendRefs ?? []).map((ref, index) => compileBackend(ref, [...at, 'backendRefs', index], rule, ctx))
  if (filters === undefined || backends.some((backend) => backend === undefined)) return undefined
  const redirects = filters.some((filter) => filter.type === 'RequestRedirect')
  if (backends.length === 0 && !redirects) {
    ctx.issues.push(issueIn(source, at, 'no backendRefs — expected backendRefs naming a pool, or a RequestRedirect filter'))
    return undefined
  }
  return {
    id,
    backends: backends as BackendRef[],
    sessionPersistence: rule.sessionPersistence === undefined ? undefined : compileSessionPersistence(rule.sessionPersistence),
    filters,
    timeouts: rule.timeouts === undefined ? undefined : { requestMs: rule.timeouts.request, backendRequestMs: rule.timeouts.backendRequest },
    retry: rule.retry === undefined ? undefined : { attempts: rule.retry.attempts, codes: rule.retry.codes ?? [], backoffMs: rule.retry.backoff },
  }
}

/** GEP-1619 with either generation of field names (the schema refused conflicting ones). */
export function compileSessionPersistence(config: SessionPersistenceConfig): SessionPersistence {
  const sessionName = config.sessionName ?? (config.type === 'Cookie' ? config.cookie?.name : config.header?.name) ?? DEFAULT_SESSION_NAME
  const lifetimeType = config.cookie?.lifetimeType ?? config.cookieConfig?.lifetimeType ?? 'Session'
  const compiled: SessionPersistence = { type: config.type, sessionName, absoluteTimeoutMs: config.absoluteTimeout, idleTimeoutMs: config.idleTimeout, lifetimeType }
  return config.cookie?.path === undefined ? compiled : { ...compiled, cookiePath: config.cookie.path }
}

function compileBackend(ref: HTTPBackendRefConfig, at: KeyPath, rule: HTTPRouteRuleConfig, ctx: Ctx): BackendRef | undefined {
  warnForeignKind(ref, at, ctx)
  const filters = compileFilters(ref.filters ?? [], [...at, 'filters'], rule, ctx)
  return filters === undefined ? undefined : { pool: ref.name, weight: ref.weight, filters }
}

function warnForeignKind(ref: { group?: string | undefined; kind?: string | undefined; name: string }, at: KeyPath, ctx: Ctx): void {
  const group = ref.group ?? ''
  const kind = ref.kind ?? 'Service'
  if (group === '' && kind === 'Service') return
  ctx.warnings.push(`${where(ctx.source, at)}: backendRef of ${group === '' ? '' : `group ${group} `}kind ${kind} is not supported — its name ${JSON.stringify(ref.name)} is read as a Latch pool, as for a Service`)
}

function compileFilters(filters: readonly HTTPRouteFilterConfig[], at: KeyPath, rule: HTTPRouteRuleConfig, ctx: Ctx): RouteFilter[] | undefined {
  const out: RouteFilter[] = []
  let failed = false
  filters.forEach((filter, index) => {
    const here = [...at, index]
    switch (filter.type) {
      case 'RequestHeaderModifier':
        out.push({ type: 'RequestHeaderModifier', modifier: headerModifier(filter.requestHeaderModifier) })
        break
      case 'ResponseHeaderModifier':
        out.push({ type: 'ResponseHeaderModifier', modifier: headerModifier(filter.responseHeaderModifier) })
        break
      case 'RequestRedirect': {
        const redirect = filter.requestRedirect
        if (redirect === undefined) break
        const path = pathModifier(redirect.path, [...here, 'requestRedirect', 'path'], rule, ctx)
        if (path === false) failed = true
        else out.push({ type: 'RequestRedirect', redirect: { scheme: redirect.scheme, hostname: redirect.hostname, port: redirect.port, path, statusCode: redirect.statusCode } })
        break
      }
      case 'URLRewrite': {
        const rewrite = filter.urlRewrite
        if (rewrite === undefined) break
        const path = pathModifier(rewrite.path, [...here, 'urlRewrite', 'path'], rule, ctx)
        if (path === false) failed = true
        else out.push({ type: 'URLRewrite', rewrite: { hostname: rewrite.hostname, path } })
        break
      }
      case 'RequestMirror': {
        const mirror = filter.requestMirror
        if (mirror === undefined) break
        warnForeignKind(mirror.backendRef, [...here, 'requestMirror', 'backendRef'], ctx)
        const share = mirror.fraction !== undefined ? mirror.fraction.numerator / mirror.fraction.denominator : (mirror.percent ?? 100) / 100
        out.push({ type: 'RequestMirror', mirror: { pool: mirror.backendRef.name, share } })
        break
      }
      case 'ExtensionRef':
      case 'CORS':
        ctx.warnings.push(`${where(ctx.source, here)}: filter type ${filter.type} is not supported by Latch and is not applied`)
        break
      case 'ExternalAuth':
        ctx.issues.push(issueIn(ctx.source, [...here, 'type'], 'filter type ExternalAuth is not supported — Latch does not call external authorisation services, and serving the rule without it would skip the check'))
        failed = true
        break
    }
  })
  return failed ? undefined : out
}

function headerModifier(config: { set?: { name: string; value: string }[] | undefined; add?: { name: string; value: string }[] | undefined; remove?: string[] | undefined } | undefined): HeaderModifier {
  const pair = (header: { name: string; value: string }): readonly [string, string] => [header.name.toLowerCase(), header.value]
  return { set: (config?.set ?? []).map(pair), add: (config?.add ?? []).map(pair), remove: (config?.remove ?? []).map((name) => name.toLowerCase()) }
}

/**
 * A path modifier; `ReplacePrefixMatch` needs exactly one match, a PathPrefix one (the CRD's CEL rule),
 * so there is exactly one prefix to replace. False when that does not hold (the issue is reported).
 */
function pathModifier(config: { type: 'ReplaceFullPath' | 'ReplacePrefixMatch'; replaceFullPath?: string | undefined; replacePrefixMatch?: string | undefined } | undefined, at: KeyPath, rule: HTTPRouteRuleConfig, ctx: Ctx): PathModifier | undefined | false {
  if (config === undefined) return undefined
  if (config.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: config.replaceFullPath ?? '/' }
  const matches = rule.matches ?? []
  const prefixOnly = matches.length === 0 || (matches.length === 1 && (matches[0]?.path?.type ?? 'PathPrefix') === 'PathPrefix')
  if (!prefixOnly) {
    ctx.issues.push(issueIn(ctx.source, [...at, 'type'], 'ReplacePrefixMatch needs the rule to have exactly one match, of type PathPrefix — expected one PathPrefix match, or ReplaceFullPath'))
    return false
  }
  return { type: 'ReplacePrefixMatch', value: config.replacePrefixMatch ?? '/' }
}

/** Every pool an HTTPRoute names, with where (for the unknown-pool check). */
export function* httpRoutePoolReferences(sources: readonly HttpRouteSource[]): Generator<{ pool: string; source: HttpRouteSource; path: KeyPath }> {
  for (const source of sources) {
    for (const [ruleIndex, rule] of (source.route.spec.rules ?? []).entries()) {
      const at = rulePath(ruleIndex)
      yield* mirrorReferences(rule.filters ?? [], [...at, 'filters'], source)
      for (const [index, ref] of (rule.backendRefs ?? []).entries()) {
        yield { pool: ref.name, source, path: [...at, 'backendRefs', index, 'name'] }
        yield* mirrorReferences(ref.filters ?? [], [...at, 'backendRefs', index, 'filters'], source)
      }
    }
  }
}

function* mirrorReferences(filters: readonly HTTPRouteFilterConfig[], at: KeyPath, source: HttpRouteSource): Generator<{ pool: string; source: HttpRouteSource; path: KeyPath }> {
  for (const [index, filter] of filters.entries()) {
    if (filter.requestMirror !== undefined) yield { pool: filter.requestMirror.backendRef.name, source, path: [...at, index, 'requestMirror', 'backendRef', 'name'] }
  }
}

/** An issue at `path` (relative to the manifest) of an HTTPRoute source. */
export function issueIn(source: HttpRouteSource, path: KeyPath, message: string): ConfigIssue {
  const full = [...source.basePath, ...path]
  const line = source.doc?.lineOf(full)
  const shown = source.displayPrefix + formatKeyPath(full)
  return line === undefined ? { file: source.file, path: shown, message } : { file: source.file, path: shown, message, line }
}

function where(source: HttpRouteSource, path: KeyPath): string {
  const full = [...source.basePath, ...path]
  const line = source.doc?.lineOf(full)
  return `${source.file}: ${source.displayPrefix}${formatKeyPath(full)}${line === undefined ? '' : ` (line ${line})`}`
}
