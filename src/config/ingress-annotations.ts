/**
 * @module ingress-nginx sticky-session annotations on Ingress manifests, mapped to pool affinity.
 *
 * A user moving from ingress-nginx keeps their manifests: the `nginx.ingress.kubernetes.io/` session
 * annotations of an Ingress set the affinity of every pool its backends name, with ingress-nginx's
 * defaults (kubernetes/ingress-nginx internal/ingress/annotations/sessionaffinity, and the "Sticky
 * sessions" and annotations pages of its documentation):
 *
 * | annotation | Latch |
 * | --- | --- |
 * | `affinity: cookie` | `mode: cookie`, cookie name `INGRESSCOOKIE` unless `session-cookie-name` |
 * | `affinity-mode: balanced` (default) or `persistent` | accepted; Latch never moves a session while its endpoint is available |
 * | `session-cookie-path` | `cookie.path`; default: the Ingress path routed to the pool when there is exactly one (Exact/Prefix), else `/` |
 * | `session-cookie-domain` | `cookie.domain` |
 * | `session-cookie-max-age`, `session-cookie-expires` (seconds) | `cookie.maxAge` (Max-Age wins, as in browsers) |
 * | `session-cookie-samesite: None/Lax/Strict` | `cookie.sameSite` |
 * | `session-cookie-secure: "true"` | `cookie.secure: always` (`"false"`: `auto`) |
 * | `session-cookie-change-on-failure: "true"` | `onUnavailable: rebind` (`"false"` has no exact equivalent: warned, rebind) |
 * | `upstream-hash-by: $remote_addr / $request_uri / $uri / $cookie_X / $http_X / $arg_X` | `mode: hash` with key `client-ip`, `path`, `cookie:X`, `header:X`, `query:X` |
 *
 * Precedence: a pool's own `affinity` in the config wins over annotations (warned); `affinity: cookie`
 * wins over `upstream-hash-by` (as in ingress-nginx, whose sticky balancer is chosen first); the first
 * Ingress that sets a pool's affinity wins over later ones (warned). Any other
 * `nginx.ingress.kubernetes.io/` annotation is not supported and is named in a warning; annotations of
 * other prefixes belong to other tools and are ignored silently.
 */
import { Affinity, type AffinityConfig } from './affinity-schema.js'
import type { RouteSource } from './route-sources.js'

export const NGINX_PREFIX = 'nginx.ingress.kubernetes.io/'
/** ingress-nginx's default affinity cookie name. */
export const INGRESS_COOKIE = 'INGRESSCOOKIE'

/** Canary annotations (names after the prefix), read by config/ingress-canary.ts. */
export const CANARY_ANNOTATIONS = [
  'canary',
  'canary-by-header',
  'canary-by-header-value',
  'canary-by-header-pattern',
  'canary-by-cookie',
  'canary-weight',
  'canary-weight-total',
  'affinity-canary-behavior',
] as const
const KNOWN_ELSEWHERE = new Set<string>(CANARY_ANNOTATIONS)

const SESSION_ANNOTATIONS = new Set([
  'affinity',
  'affinity-mode',
  'session-cookie-name',
  'session-cookie-path',
  'session-cookie-domain',
  'session-cookie-max-age',
  'session-cookie-expires',
  'session-cookie-samesite',
  'session-cookie-secure',
  'session-cookie-change-on-failure',
  'upstream-hash-by',
])

/** The session annotations (names after the prefix). */
export const SESSION_ANNOTATION_NAMES: readonly string[] = [...SESSION_ANNOTATIONS]

/** The affinity one Ingress's annotations ask for, and what could not be honoured. */
export interface AnnotatedAffinity {
  /** Input for the `Affinity` schema (undefined: the annotations ask for no affinity). */
  readonly affinity: Record<string, unknown> | undefined
  /** Problems worth telling the operator, without the Ingress label. */
  readonly warnings: readonly string[]
}

/**
 * Reads the annotations of one Ingress. `routedPath` is the single Exact/Prefix path routed to the
 * pool (ingress-nginx's default cookie path), or undefined.
 */
export function affinityFromAnnotations(annotations: Readonly<Record<string, string>>, routedPath: string | undefined): AnnotatedAffinity {
  const warnings: string[] = []
  const get = (name: string): string | undefined => {
    const value = annotations[NGINX_PREFIX + name]
    return value === undefined ? undefined : value.trim()
  }
  const unsupported = Object.keys(annotations)
    .filter((name) => name.startsWith(NGINX_PREFIX) && !SESSION_ANNOTATIONS.has(name.slice(NGINX_PREFIX.length)) && !KNOWN_ELSEWHERE.has(name.slice(NGINX_PREFIX.length)))
    .sort()
  if (unsupported.length > 0) warnings.push(`unsupported annotations ignored: ${unsupported.join(', ')}`)

  const type = get('affinity')
  const hashBy = get('upstream-hash-by')
  if (type !== undefined && type !== 'cookie') {
    warnings.push(`${NGINX_PREFIX}affinity: "${type}" is not supported (ingress-nginx supports only "cookie") — ignored`)
  }
  if (type === 'cookie') {
    if (hashBy !== undefined) warnings.push(`${NGINX_PREFIX}upstream-hash-by is ignored: affinity "cookie" takes precedence, as in ingress-nginx`)
    return { affinity: cookieAffinity(get, routedPath, warnings), warnings }
  }
  const cookieOnly = [...SESSION_ANNOTATIONS].filter((name) => name !== 'upstream-hash-by' && name !== 'affinity' && get(name) !== undefined)
  if (cookieOnly.length > 0) warnings.push(`${cookieOnly.map((name) => NGINX_PREFIX + name).join(', ')} ignored without ${NGINX_PREFIX}affinity: "cookie"`)
  if (hashBy === undefined) return { affinity: undefined, warnings }
  const key = hashKey(hashBy)
  if (key === undefined) {
    warnings.push(`${NGINX_PREFIX}upstream-hash-by: "${hashBy}" is not supported — use one of $remote_addr, $request_uri, $uri, $cookie_NAME, $http_NAME or $arg_NAME`)
    return { affinity: undefined, warnings }
  }
  return { affinity: { mode: 'hash', hash: { key } }, warnings }
}

function cookieAffinity(get: (name: string) => string | undefined, routedPath: string | undefined, warnings: string[]): Record<string, unknown> {
  const cookie: Record<string, unknown> = { name: get('session-cookie-name') || INGRESS_COOKIE, path: get('session-cookie-path') || routedPath || '/' }
  const affinity: Record<string, unknown> = { mode: 'cookie', cookie }
  const mode = get('affinity-mode')
  if (mode !== undefined && mode !== 'balanced' && mode !== 'persistent') warnings.push(`${NGINX_PREFIX}affinity-mode: "${mode}" is not one of balanced, persistent — ignored`)
  const domain = get('session-cookie-domain')
  if (domain) cookie.domain = domain
  const maxAge = seconds(get, 'session-cookie-max-age', warnings) ?? seconds(get, 'session-cookie-expires', warnings)
  if (maxAge !== undefined) cookie.maxAge = `${maxAge}s`
  const sameSite = get('session-cookie-samesite')
  if (sameSite !== undefined) {
    const known = ['None', 'Lax', 'Strict'].find((value) => value.toLowerCase() === sameSite.toLowerCase())
    if (known === undefined) warnings.push(`${NGINX_PREFIX}session-cookie-samesite: "${sameSite}" is not one of None, Lax, Strict — ignored`)
    else cookie.sameSite = known
  }
  const secure = flag(get, 'session-cookie-secure', warnings)
  if (secure !== undefined) cookie.secure = secure ? 'always' : 'auto'
  const changeOnFailure = flag(get, 'session-cookie-change-on-failure', warnings)
  if (changeOnFailure === false) {
    warnings.push(`${NGINX_PREFIX}session-cookie-change-on-failure: "false" has no exact equivalent — Latch moves a session once when its endpoint is unavailable (onUnavailable: rebind); set the pool's affinity.onUnavailable: fail to refuse instead`)
  }
  affinity.onUnavailable = 'rebind'
  return affinity
}

/** A whole number of seconds (ingress-nginx: `^0|-?[1-9]\d*$`; negative values mean nothing to Latch). */
function seconds(get: (name: string) => string | undefined, name: string, warnings: string[]): number | undefined {
  const value = get(name)
  if (value === undefined) return undefined
  if (!/^(0|[1-9]\d*)$/.test(value)) {
    warnings.push(`${NGINX_PREFIX}${name}: "${value}" is not a number of seconds — ignored`)
    return undefined
  }
  return Number(value)
}

function flag(get: (name: string) => string | undefined, name: string, warnings: string[]): boolean | undefined {
  const value = get(name)
  if (value === undefined) return undefined
  if (value === 'true' || value === 'false') return value === 'true'
  warnings.push(`${NGINX_PREFIX}${name}: "${value}" is not "true" or "false" — ignored`)
  return undefined
}

/** The hash key of an nginx variable, or undefined when Latch has no equivalent. */
export function hashKey(variable: string): string | undefined {
  if (variable === '$remote_addr' || variable === '$binary_remote_addr') return 'client-ip'
  if (variable === '$request_uri' || variable === '$uri') return 'path'
  const match = /^\$(cookie|http|arg)_([A-Za-z0-9_.-]+)$/.exec(variable)
  if (match === null) return undefined
  const name = match[2] as string
  if (match[1] === 'cookie') return `cookie:${name}`
  if (match[1] === 'http') return `header:${name.replaceAll('_', '-').toLowerCase()}`
  return `query:${name}`
}

/** Where a pool's affinity comes from after annotations were applied. */
export interface AnnotationResult {
  /** Pool name → affinity derived from annotations (only pools whose config did not set one). */
  readonly affinities: ReadonlyMap<string, AffinityConfig>
  readonly warnings: readonly string[]
}

/**
 * Applies the annotations of every manifest to the pools its backends name. `explicit` says which
 * pools set `affinity` in the config themselves (those keep it, with a warning). `inherited` gives a
 * source the session annotations of another (a canary Ingress without its own: its main's).
 */
export function annotatedAffinities(sources: readonly RouteSource[], explicit: ReadonlySet<string>, inherited?: (source: RouteSource) => Readonly<Record<string, string>> | undefined): AnnotationResult {
  const affinities = new Map<string, AffinityConfig>()
  const setBy = new Map<string, string>()
  const warnings: string[] = []
  for (const source of sources) {
    const inherit = inherited?.(source)
    const annotations = inherit ?? source.annotations
    if (Object.keys(annotations).length === 0) continue
    const label = source.name === undefined ? source.file : `${source.file} (Ingress ${source.name})`
    const paths = routedPaths(source)
    // Inherited annotations were reported with the Ingress that carries them.
    let reported = inherit !== undefined
    for (const [pool, poolPaths] of paths) {
      const routedPath = poolPaths.size === 1 ? [...poolPaths][0] : undefined
      const read = affinityFromAnnotations(annotations, routedPath)
      if (!reported) {
        for (const warning of read.warnings) warnings.push(`${label}: ${warning}`)
        reported = true
      }
      if (read.affinity === undefined) continue
      if (explicit.has(pool)) {
        warnings.push(`${label}: pool "${pool}" sets its own affinity in the config, which wins over the Ingress annotations`)
        continue
      }
      const earlier = setBy.get(pool)
      if (earlier !== undefined) {
        warnings.push(`${label}: pool "${pool}" already takes its affinity from the annotations of ${earlier}; these are ignored for it`)
        continue
      }
      const parsed = Affinity.safeParse(read.affinity)
      if (!parsed.success) {
        warnings.push(`${label}: the annotations give pool "${pool}" an affinity Latch cannot use (${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}) — ignored`)
        continue
      }
      affinities.set(pool, parsed.data)
      setBy.set(pool, label)
    }
  }
  return { affinities, warnings }
}

/** Pool name → the Exact/Prefix paths that route to it in this Ingress (`/` for defaultBackend). */
function routedPaths(source: RouteSource): Map<string, Set<string | undefined>> {
  const paths = new Map<string, Set<string | undefined>>()
  const add = (pool: string, path: string | undefined): void => {
    const set = paths.get(pool) ?? new Set<string | undefined>()
    set.add(path)
    paths.set(pool, set)
  }
  const spec = source.spec
  if (spec.defaultBackend !== undefined) add(spec.defaultBackend.service.name, '/')
  for (const rule of spec.rules ?? []) {
    for (const entry of rule.http?.paths ?? []) {
      // A regular expression is no cookie path (ingress-nginx asks for session-cookie-path then).
      add(entry.backend.service.name, entry.pathType === 'ImplementationSpecific' ? undefined : entry.path ?? '/')
    }
  }
  return paths
}
