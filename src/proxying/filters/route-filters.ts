/**
 * @module A route rule's (or one backendRef's) Gateway API filters, timeouts and retry, compiled once
 * per config into what the request path applies: header edits, redirect, rewrite, mirrors.
 *
 * Rules without any of these compile to `undefined`, so their requests only pay a field check. A
 * request of a rule that has them carries a FilteredRequest (filtered-request.ts) with what the
 * exchange needs later: response edits, the Host rewrite, timers and the retry policy.
 */
import { ProxyError } from '../../errors/proxy-error.js'
import type { BackendRef, RequestRedirect, RouteAction, RouteFilter, RouteRetry, UrlRewrite } from '../../routing/route-action.js'
import type { ServerResponse } from 'node:http'
import type { PoolTarget } from '../pool-target.js'
import { FilteredRequest, type RequestFilterSet, type TimedRequest } from './filtered-request.js'
import { HeaderEdit } from './header-edit.js'
import { Mirror } from './mirror.js'
import { modifyPath, splitTarget } from './path-modifier.js'
import { redirectLocation, type RedirectSource } from './redirect.js'

/** What the filters read and change of a request (the exchange, seen without importing it). */
export interface FilterableRequest extends TimedRequest, RedirectSource {
  upstreamHeaders: string[]
  cookieIndex: number
  target: string
  status: number
  filtered: FilteredRequest | undefined
  readonly requestId: string
  readonly routeDescription: string | undefined
  readonly res: ServerResponse
  readonly runtime: { readonly headerRules: { readonly requestIdHeader: string } }
  fail(error: ProxyError): void
}

/** Compiled filters of a rule or of one of its backends. */
export class RouteFilters implements RequestFilterSet {
  readonly requestEdits: readonly HeaderEdit[]
  readonly responseEdits: readonly HeaderEdit[]
  readonly redirect: RequestRedirect | undefined
  readonly rewrite: UrlRewrite | undefined
  readonly mirrors: readonly Mirror[]
  /** `timeouts.request` / `timeouts.backendRequest` in ms; 0 = none (also what `0s` means). */
  readonly requestTimeoutMs: number
  readonly backendTimeoutMs: number
  readonly retry: RouteRetry | undefined
  /** A rule with no backend and no redirect: every request gets 500 ERR_NO_BACKEND. */
  readonly noBackend: boolean

  constructor(filters: readonly RouteFilter[], pools: ReadonlyMap<string, PoolTarget>, rule: Pick<RouteAction, 'timeouts' | 'retry'> | undefined, noBackend: boolean) {
    const requestEdits: HeaderEdit[] = []
    const responseEdits: HeaderEdit[] = []
    const mirrors: Mirror[] = []
    let redirect: RequestRedirect | undefined
    let rewrite: UrlRewrite | undefined
    for (const filter of filters) {
      switch (filter.type) {
        case 'RequestHeaderModifier':
          pushEdit(requestEdits, filter.modifier)
          break
        case 'ResponseHeaderModifier':
          pushEdit(responseEdits, filter.modifier)
          break
        case 'RequestRedirect':
          redirect ??= filter.redirect
          break
        case 'URLRewrite':
          rewrite ??= filter.rewrite
          break
        case 'RequestMirror': {
          const pool = pools.get(filter.mirror.pool)?.pool
          // The config check guarantees the pool exists; a share of 0 mirrors nothing.
          if (pool !== undefined && filter.mirror.share > 0) mirrors.push(new Mirror(pool, filter.mirror.share))
        }
      }
    }
    this.requestEdits = requestEdits
    this.responseEdits = responseEdits
    this.redirect = redirect
    this.rewrite = rewrite
    this.mirrors = mirrors
    this.requestTimeoutMs = rule?.timeouts?.requestMs ?? 0
    this.backendTimeoutMs = rule?.timeouts?.backendRequestMs ?? 0
    this.retry = rule?.retry
    this.noBackend = noBackend && redirect === undefined
  }

  /** True when every request is answered by the filters themselves (redirect, or no backend). */
  get answersDirectly(): boolean {
    return this.redirect !== undefined || this.noBackend
  }

  /** True when the filters change nothing (then the rule compiles to no filters at all). */
  get empty(): boolean {
    return (
      this.requestEdits.length === 0 && this.responseEdits.length === 0 && this.redirect === undefined && this.rewrite === undefined &&
      this.mirrors.length === 0 && this.requestTimeoutMs === 0 && this.backendTimeoutMs === 0 && this.retry === undefined && !this.noBackend
    )
  }

  /**
   * Applies the request side to `exchange` (routed to `host`, matched PathPrefix `prefix`). Returns
   * true when the request was answered here (redirect, or a rule without backends).
   */
  applyToRequest(exchange: FilterableRequest, host: string, prefix: string | undefined): boolean {
    if (this.redirect !== undefined) {
      answerRedirect(exchange, redirectLocation(this.redirect, exchange, host, prefix), this.redirect.statusCode, this.responseEdits)
      return true
    }
    if (this.noBackend) {
      exchange.fail(new ProxyError('ERR_NO_BACKEND', `route rule has no backend (${exchange.routeDescription ?? ''})`))
      return true
    }
    const filtered = (exchange.filtered ??= new FilteredRequest())
    filtered.add(this, exchange)
    for (const edit of this.requestEdits) editUpstreamHeaders(exchange, edit)
    const rewrite = this.rewrite
    if (rewrite !== undefined) {
      if (rewrite.hostname !== undefined) filtered.upstreamHost = rewrite.hostname
      if (rewrite.path !== undefined) {
        const [path, query] = splitTarget(exchange.target)
        exchange.target = modifyPath(path, prefix, rewrite.path) + query
      }
    }
    return false
  }
}

function pushEdit(edits: HeaderEdit[], modifier: ConstructorParameters<typeof HeaderEdit>[0]): void {
  const edit = new HeaderEdit(modifier)
  if (!edit.empty) edits.push(edit)
}

/** Edits the headers sent upstream (never the Host pair at 0–1) and finds the Cookie entry again. */
function editUpstreamHeaders(exchange: FilterableRequest, edit: HeaderEdit): void {
  const headers = edit.apply(exchange.upstreamHeaders, 2)
  exchange.upstreamHeaders = headers
  if (exchange.cookieIndex === -1) return
  exchange.cookieIndex = -1
  for (let i = 2; i < headers.length; i += 2) {
    if ((headers[i] as string).toLowerCase() === 'cookie') {
      exchange.cookieIndex = i + 1
      return
    }
  }
}

function answerRedirect(exchange: FilterableRequest, location: string, status: number, responseEdits: readonly HeaderEdit[]): void {
  exchange.status = status
  let headers = ['location', location, 'content-length', '0', exchange.runtime.headerRules.requestIdHeader, exchange.requestId]
  for (const edit of responseEdits) headers = edit.apply(headers, 0)
  exchange.res.writeHead(status, headers)
  exchange.res.end()
}

/** The rule-level filters of `action` (with its timeouts and retry), or undefined when it has none. */
export function compileRuleFilters(action: RouteAction, pools: ReadonlyMap<string, PoolTarget>): RouteFilters | undefined {
  const filters = new RouteFilters(action.filters, pools, action, action.backends.length === 0)
  return filters.empty ? undefined : filters
}

/** The filters of one backendRef (applied only when that backend is chosen), or undefined when it has none. */
export function compileBackendFilters(backend: BackendRef, pools: ReadonlyMap<string, PoolTarget>): RouteFilters | undefined {
  if (backend.filters.length === 0) return undefined
  const filters = new RouteFilters(backend.filters, pools, undefined, false)
  return filters.empty ? undefined : filters
}
