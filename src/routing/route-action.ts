/**
 * @module What a matched route rule does, whatever source it came from (Ingress, HTTPRoute, quick
 * mode): its backends (pools, with weights), rule-level session persistence, filters, timeouts and
 * retry. Compiled once at config load; the router hands it to the request path through the target
 * the runtime built for it (proxying/rule-target.ts).
 *
 * Kept free of request-time types so config, routing and admin code can all read it.
 */

/** A request or response header change (Gateway API `HTTPHeaderFilter`); names are lower-case. */
export interface HeaderModifier {
  readonly set: readonly (readonly [name: string, value: string])[]
  readonly add: readonly (readonly [name: string, value: string])[]
  readonly remove: readonly string[]
}

/** A path change of a redirect or rewrite (Gateway API `HTTPPathModifier`). */
export type PathModifier = { readonly type: 'ReplaceFullPath'; readonly value: string } | { readonly type: 'ReplacePrefixMatch'; readonly value: string }

/** Gateway API `HTTPRequestRedirectFilter`; unset parts keep the request's own. */
export interface RequestRedirect {
  readonly scheme: 'http' | 'https' | undefined
  readonly hostname: string | undefined
  readonly port: number | undefined
  readonly path: PathModifier | undefined
  readonly statusCode: 301 | 302 | 303 | 307 | 308
}

/** Gateway API `HTTPURLRewriteFilter`. */
export interface UrlRewrite {
  readonly hostname: string | undefined
  readonly path: PathModifier | undefined
}

/** Gateway API `HTTPRequestMirrorFilter`: a copy of the request to another pool, its answer discarded. */
export interface RequestMirror {
  readonly pool: string
  /** Share of requests mirrored, 0–1 (`percent` / 100, or `fraction`). */
  readonly share: number
}

export type RouteFilter =
  | { readonly type: 'RequestHeaderModifier'; readonly modifier: HeaderModifier }
  | { readonly type: 'ResponseHeaderModifier'; readonly modifier: HeaderModifier }
  | { readonly type: 'RequestRedirect'; readonly redirect: RequestRedirect }
  | { readonly type: 'URLRewrite'; readonly rewrite: UrlRewrite }
  | { readonly type: 'RequestMirror'; readonly mirror: RequestMirror }

/** One backend of a rule: a pool, its weight in the split, and filters applied only when it is chosen. */
export interface BackendRef {
  readonly pool: string
  /** Relative weight; 0 = receives no new requests. A rule with one backend has weight 1. */
  readonly weight: number
  readonly filters: readonly RouteFilter[]
}

/**
 * Rule-level sticky sessions (Gateway API GEP-1619 `sessionPersistence`): the session remembers its
 * backend (pool) and endpoint.
 */
export interface SessionPersistence {
  readonly type: 'Cookie' | 'Header'
  /** Cookie or header name. */
  readonly sessionName: string
  /** Session ends this long after it began, busy or not (ms). */
  readonly absoluteTimeoutMs: number | undefined
  /** Session ends after this long without a request (ms). */
  readonly idleTimeoutMs: number | undefined
  /** `Permanent`: the cookie carries Max-Age = absoluteTimeout; `Session`: no Max-Age. */
  readonly lifetimeType: 'Session' | 'Permanent'
  /** Cookie `Path` (`cookie.path`); absent = `/`. */
  readonly cookiePath?: string
}

/** Gateway API `HTTPRouteTimeouts`, in ms; 0 (`0s`) = no timeout, as the spec says. */
export interface RouteTimeouts {
  readonly requestMs: number | undefined
  readonly backendRequestMs: number | undefined
}

/** Gateway API `HTTPRouteRetry` (GEP-1731), mapped onto Latch's safe-retry rules. */
export interface RouteRetry {
  readonly attempts: number | undefined
  readonly codes: readonly number[]
  readonly backoffMs: number | undefined
}

/** What a matched rule does. Several path rules (an HTTPRoute rule's ORed matches) may share one action. */
export interface RouteAction {
  /**
   * Stable name of the rule for metrics, the access log and the admin API, e.g.
   * `httproute/shop/rule-0` or `ingress/app.example.com/api`.
   */
  readonly id: string
  readonly backends: readonly BackendRef[]
  readonly sessionPersistence: SessionPersistence | undefined
  readonly filters: readonly RouteFilter[]
  readonly timeouts: RouteTimeouts | undefined
  readonly retry: RouteRetry | undefined
}

/** The action of a rule that sends everything to one pool and does nothing else (Ingress, quick mode). */
export function singlePoolAction(id: string, pool: string): RouteAction {
  return { id, backends: [{ pool, weight: 1, filters: [] }], sessionPersistence: undefined, filters: [], timeouts: undefined, retry: undefined }
}

/** Every pool an action can send to (backends and mirrors), for reference checks and listings. */
export function* actionPools(action: RouteAction): Generator<string> {
  for (const backend of action.backends) {
    yield backend.pool
    for (const filter of backend.filters) if (filter.type === 'RequestMirror') yield filter.mirror.pool
  }
  for (const filter of action.filters) if (filter.type === 'RequestMirror') yield filter.mirror.pool
}
