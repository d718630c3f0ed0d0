/**
 * @module Matches a request's host and canonical path against the compiled route table.
 *
 * Built once per config from a RouteTable (see route-table.ts for the precedence rules); every
 * match result is pre-allocated, so matching allocates nothing per request.
 */
import type { RouteAction } from './route-action.js'
import type { PathRule, RouteTable } from './route-table.js'

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
  readonly regex: RegExp | undefined
  readonly match: RouteMatch<P>
}

/** Host and path router with Kubernetes Ingress semantics. */
export class Router<P> {
  readonly #exact: Map<string, BoundRule<P>[]>
  readonly #wildcard: Map<string, BoundRule<P>[]>
  readonly #any: BoundRule<P>[] | undefined
  readonly #fallback: RouteMatch<P> | undefined

  constructor(table: RouteTable, resolveAction: (action: RouteAction) => P) {
    const resolved = new Map<RouteAction, P>()
    const resolve = (action: RouteAction): P => {
      let target = resolved.get(action)
      if (target === undefined) resolved.set(action, (target = resolveAction(action)))
      return target
    }
    const bind = (rules: readonly PathRule[]): BoundRule<P>[] =>
      rules.map((rule) => ({
        kind: rule.pathType === 'Exact' ? EXACT : rule.pathType === 'Prefix' ? PREFIX : REGEX,
        path: rule.path,
        regex: rule.regex,
        match: { target: resolve(rule.action), prefix: rule.pathType === 'Prefix' ? rule.path : undefined, maxBodySize: rule.maxBodySize, description: rule.description },
      }))
    this.#exact = new Map([...table.exactHosts].map(([host, group]) => [host, bind(group.rules)]))
    this.#wildcard = new Map([...table.wildcardHosts].map(([suffix, group]) => [suffix, bind(group.rules)]))
    this.#any = table.anyHost === undefined ? undefined : bind(table.anyHost.rules)
    this.#fallback =
      table.defaultBackend === undefined
        ? undefined
        : { target: resolve(table.defaultBackend.action), prefix: undefined, maxBodySize: undefined, description: table.defaultBackend.description }
  }

  /** Routes a normalised host (see normalizeHost) and canonical path; undefined means 404. */
  match(host: string, path: string): RouteMatch<P> | undefined {
    const rules = this.#hostRules(host)
    if (rules !== undefined) {
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i] as BoundRule<P>
        if (matches(rule, path)) return rule.match
      }
    }
    return this.#fallback
  }

  #hostRules(host: string): BoundRule<P>[] | undefined {
    const exact = this.#exact.get(host)
    if (exact !== undefined) return exact
    if (this.#wildcard.size > 0) {
      const dot = host.indexOf('.')
      if (dot > 0) {
        const wildcard = this.#wildcard.get(host.slice(dot + 1))
        if (wildcard !== undefined) return wildcard
      }
    }
    return this.#any
  }
}

function matches<P>(rule: BoundRule<P>, path: string): boolean {
  if (rule.kind === EXACT) return path === rule.path
  if (rule.kind === PREFIX) {
    const prefix = rule.path
    if (prefix === '/') return true
    // Element-wise: "/foo" matches "/foo", "/foo/" and "/foo/bar", never "/foobar".
    return path.startsWith(prefix) && (path.length === prefix.length || path.charCodeAt(prefix.length) === 47)
  }
  return (rule.regex as RegExp).test(path)
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
