/**
 * @module ingress-nginx canary annotations: a canary Ingress (`canary: "true"`) for the same host
 * and path as a main Ingress is merged into the main rule's action (routing/route-table.ts) as a
 * second backend with canary conditions (routing/route-action.ts `CanaryConditions`), with
 * ingress-nginx's documented semantics (user-guide/nginx-configuration/annotations, "Canary"):
 *
 * | annotation (on the canary Ingress) | Latch |
 * | --- | --- |
 * | `canary: "true"` | the Ingress's paths become the canary backend of the main Ingress's same host and path |
 * | `canary-by-header: NAME` | `always` → canary, `never` → main, other values fall through |
 * | `canary-by-header-value: VALUE` | only this value → canary; others fall through (`always`/`never` no longer apply) |
 * | `canary-by-header-pattern: REGEX` | a match → canary (ignored when `canary-by-header-value` is set) |
 * | `canary-by-cookie: NAME` | `always` → canary, `never` → main, other values fall through |
 * | `canary-weight: N`, `canary-weight-total: T` (default 100) | weights main T − N, canary N (smooth, no bursts) |
 * | `affinity-canary-behavior: sticky` (default) / `legacy` | sticky: a session stays on the backend it is bound to; legacy: decided anew per request |
 *
 * Precedence: header, then cookie, then weight (sticky sessions before all three).
 */
import type { CanaryConditions } from '../routing/route-action.js'
import { NGINX_PREFIX, SESSION_ANNOTATION_NAMES } from './ingress-annotations.js'
import type { RouteSource } from './route-sources.js'

/** What a canary Ingress asks for. */
export interface CanarySettings {
  readonly conditions: CanaryConditions
  /** Weights of [main, canary]. */
  readonly weights: readonly [main: number, canary: number]
  /** Whether the canary Ingress sets affinity-canary-behavior itself (else the main one's applies). */
  readonly behaviorSet: boolean
  readonly warnings: readonly string[]
}

/** Whether `source` is a canary Ingress (`canary: "true"`). */
export function isCanary(source: RouteSource): boolean {
  return source.annotations[`${NGINX_PREFIX}canary`]?.trim() === 'true'
}

/** Reads the canary annotations of a canary Ingress. */
export function canarySettings(source: RouteSource): CanarySettings {
  const warnings: string[] = []
  const get = (name: string): string | undefined => {
    const value = source.annotations[NGINX_PREFIX + name]?.trim()
    return value === undefined || value === '' ? undefined : value
  }
  const total = wholeNumber(get('canary-weight-total'), 'canary-weight-total', 1, warnings) ?? 100
  let weight = wholeNumber(get('canary-weight'), 'canary-weight', 0, warnings) ?? 0
  if (weight > total) {
    warnings.push(`${NGINX_PREFIX}canary-weight: ${weight} is above canary-weight-total (${total}) — every request without a header or cookie decision goes to the canary`)
    weight = total
  }
  const header = get('canary-by-header')
  const headerValue = get('canary-by-header-value')
  let headerPattern: RegExp | undefined
  const pattern = get('canary-by-header-pattern')
  if (pattern !== undefined && headerValue === undefined) {
    try {
      headerPattern = new RegExp(pattern)
    } catch (error) {
      warnings.push(`${NGINX_PREFIX}canary-by-header-pattern: ${JSON.stringify(pattern)} is not a valid regular expression (${(error as Error).message}) — ignored`)
    }
  } else if (pattern !== undefined) {
    warnings.push(`${NGINX_PREFIX}canary-by-header-pattern is ignored: canary-by-header-value is set, as in ingress-nginx`)
  }
  if (header === undefined && (headerValue !== undefined || pattern !== undefined)) {
    warnings.push(`${NGINX_PREFIX}canary-by-header-value and -pattern need ${NGINX_PREFIX}canary-by-header (the header's name) — ignored`)
  }
  const behavior = get('affinity-canary-behavior') ?? 'sticky'
  if (behavior !== 'sticky' && behavior !== 'legacy') warnings.push(`${NGINX_PREFIX}affinity-canary-behavior: "${behavior}" is not sticky or legacy — sticky is used`)
  return {
    conditions: {
      header: header?.toLowerCase(),
      headerValue: header === undefined ? undefined : headerValue,
      headerPattern: header === undefined ? undefined : headerPattern,
      cookie: get('canary-by-cookie'),
      affinityBehavior: behavior === 'legacy' ? 'legacy' : 'sticky',
    },
    weights: [total - weight, weight],
    behaviorSet: get('affinity-canary-behavior') !== undefined,
    warnings,
  }
}

function wholeNumber(value: string | undefined, name: string, min: number, warnings: string[]): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || Number(value) < min) {
    warnings.push(`${NGINX_PREFIX}${name}: "${value}" is not a whole number${min > 0 ? ` of at least ${min}` : ''} — ignored`)
    return undefined
  }
  return Number(value)
}

/** `host pathType path` keys of the Exact/Prefix/ImplementationSpecific paths of an Ingress. */
export function pathKeys(source: RouteSource): string[] {
  const keys: string[] = []
  for (const rule of source.spec.rules ?? []) {
    for (const entry of rule?.http?.paths ?? []) {
      if (entry !== undefined) keys.push(pathKey(rule.host, entry.pathType, entry.path))
    }
  }
  return keys
}

/** One key per (host, pathType, path), trailing slashes of Prefix paths ignored as the router does. */
export function pathKey(host: string | undefined, pathType: string, path: string | undefined): string {
  const normalized = pathType === 'Prefix' && path !== undefined && path.length > 1 ? path.replace(/\/+$/, '') || '/' : (path ?? '')
  return `${(host ?? '').toLowerCase()} ${pathType} ${normalized}`
}

/** The main (non-canary) Ingress routing one of the canary's paths, if any. */
export function mainOf(canary: RouteSource, sources: readonly RouteSource[]): RouteSource | undefined {
  const keys = new Set(pathKeys(canary))
  return sources.find((source) => source !== canary && !isCanary(source) && pathKeys(source).some((key) => keys.has(key)))
}

/**
 * The session annotations a canary Ingress takes from its main one when it sets none itself, so the
 * canary's pool gets the same cookie and a session stays on whichever backend it was bound to.
 */
export function inheritedSessionAnnotations(sources: readonly RouteSource[]): (source: RouteSource) => Readonly<Record<string, string>> | undefined {
  return (source) => {
    if (!isCanary(source)) return undefined
    const own = SESSION_ANNOTATION_NAMES.some((name) => source.annotations[NGINX_PREFIX + name] !== undefined)
    return own ? undefined : mainOf(source, sources)?.annotations
  }
}
