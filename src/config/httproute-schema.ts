/**
 * @module The Gateway API `gateway.networking.k8s.io/v1` HTTPRoute shape, verbatim, so a user can paste
 * a manifest. Validation follows the CRD (kubernetes-sigs/gateway-api apis/v1/httproute_types.go and
 * shared_types.go, including its CEL rules); fields Latch does not implement are accepted here and
 * named in a warning by httproute-compile.ts, never silently ignored.
 *
 * `sessionPersistence` accepts both generations of GEP-1619 field names: the released experimental
 * ones (`sessionName`, `idleTimeout`, `cookieConfig.lifetimeType`) and the renamed ones (`cookie.name`,
 * `cookie.lifetimeType`, `cookie.path`, `header.name`).
 */
import { z } from 'zod'
import { checkIngressHost } from './ingress-schema.js'
import { parseDuration } from './units.js'

/** Gateway API `Duration` (GEP-2257): up to four `<number><unit>` parts, units h, m, s, ms. */
const GATEWAY_DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/
const DURATION_EXPECTED = 'expected a Gateway API duration such as 500ms, 10s or 1h30m (units h, m, s, ms)'

/** A Gateway API duration, parsed to milliseconds. */
const gatewayDuration = () =>
  z.string({ error: DURATION_EXPECTED }).transform((value, ctx) => {
    const ms = GATEWAY_DURATION.test(value) ? parseDuration(value) : undefined
    if (typeof ms === 'number') return ms
    ctx.addIssue({ code: 'custom', input: value, message: `invalid duration ${JSON.stringify(value)} — ${DURATION_EXPECTED}` })
    return z.NEVER
  })

/** RFC 7230 token: what a header name may be. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/
const headerName = () => z.string({ error: 'expected a header name such as x-version' }).regex(HEADER_NAME, { error: 'expected a header name such as x-version (letters, digits and !#$%&\'*+-.^_`|~)' })

const PRECISE_HOSTNAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

/** Characters a Gateway API Exact or PathPrefix value may hold (the CRD's CEL rule). */
const PATH_CHARACTERS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'] as const
export const PATH_MATCH_TYPES = ['Exact', 'PathPrefix', 'RegularExpression'] as const
export type PathMatchType = (typeof PATH_MATCH_TYPES)[number]

/** Why a Gateway API Exact/PathPrefix path value is invalid, or undefined (the CRD's CEL rules). */
export function checkGatewayPath(value: string): string | undefined {
  if (!value.startsWith('/')) return 'must start with "/"'
  for (const part of ['//', '/./', '/../', '%2f', '%2F', '#']) if (value.includes(part)) return `must not contain "${part}"`
  if (value.endsWith('/..') || value.endsWith('/.')) return 'must not end with "/.." or "/."'
  if (!PATH_CHARACTERS.test(value)) return "must only contain the characters A-Z a-z 0-9 - / . _ ~ ! $ & ' ( ) * + , ; = : @ and %XX escapes"
  return undefined
}

const HTTPPathMatch = z
  .strictObject({
    type: z.enum(PATH_MATCH_TYPES, { error: 'expected one of Exact, PathPrefix, RegularExpression' }).default('PathPrefix').meta({ description: '`Exact` (whole path, case-sensitive), `PathPrefix` (whole `/`-separated elements; a trailing `/` is ignored) or `RegularExpression` (JavaScript syntax, must match the whole path).' }),
    value: z.string({ error: 'expected a path such as /api' }).max(1024).default('/').meta({ description: 'The path or regular expression.' }),
  })
  .superRefine((path, ctx) => {
    if (path.type === 'RegularExpression') return
    const problem = checkGatewayPath(path.value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['value'], input: path.value, message: `${path.type} path ${JSON.stringify(path.value)} ${problem}` })
  })

const valueMatch = (what: string) =>
  z.strictObject({
    type: z.enum(['Exact', 'RegularExpression'], { error: 'expected Exact or RegularExpression' }).default('Exact').meta({ description: '`Exact` or `RegularExpression` (JavaScript syntax, must match the whole value).' }),
    name: (what === 'header' ? headerName() : z.string({ error: 'expected a query parameter name' }).min(1).max(256)).meta({ description: what === 'header' ? 'Header name, compared case-insensitively; only the first entry of a name counts.' : 'Query parameter name, compared case-sensitively; only the first entry of a name counts.' }),
    value: z.string({ error: `expected the ${what} value to match` }).min(1).max(what === 'header' ? 4096 : 1024).meta({ description: what === 'header' ? 'Value to match (several request headers of one name are joined with ", ").' : 'Value to match, against the first occurrence of the parameter, percent-decoded.' }),
  })

const HTTPRouteMatch = z.strictObject({
  path: HTTPPathMatch.optional().meta({ description: 'Path match; default `PathPrefix /`.' }),
  headers: z.array(valueMatch('header')).max(16).optional().meta({ description: 'Header matches, all of which must hold.' }),
  queryParams: z.array(valueMatch('query parameter')).max(16).optional().meta({ description: 'Query parameter matches, all of which must hold.' }),
  method: z.enum(HTTP_METHODS, { error: `expected one of ${HTTP_METHODS.join(', ')}` }).optional().meta({ description: 'HTTP method the request must have.' }),
})

const HTTPHeader = z.strictObject({
  name: headerName().meta({ description: 'Header name.' }),
  value: z.string({ error: 'expected a header value' }).max(4096).meta({ description: 'Header value.' }),
})

const HTTPHeaderFilter = z.strictObject({
  set: z.array(HTTPHeader).max(16).optional().meta({ description: 'Headers to set (replacing any value).' }),
  add: z.array(HTTPHeader).max(16).optional().meta({ description: 'Headers to add (appended to an existing value).' }),
  remove: z.array(headerName()).max(16).optional().meta({ description: 'Header names to remove.' }),
})

const HTTPPathModifier = z
  .strictObject({
    type: z.enum(['ReplaceFullPath', 'ReplacePrefixMatch'], { error: 'expected ReplaceFullPath or ReplacePrefixMatch' }).meta({ description: '`ReplaceFullPath` or `ReplacePrefixMatch` (the matched PathPrefix is replaced).' }),
    replaceFullPath: z.string().max(1024).optional().meta({ description: 'The new path (type ReplaceFullPath).' }),
    replacePrefixMatch: z.string().max(1024).optional().meta({ description: 'What replaces the matched prefix (type ReplacePrefixMatch).' }),
  })
  .superRefine((path, ctx) => {
    const field = path.type === 'ReplaceFullPath' ? 'replaceFullPath' : 'replacePrefixMatch'
    const other = path.type === 'ReplaceFullPath' ? 'replacePrefixMatch' : 'replaceFullPath'
    if (path[field] === undefined) ctx.addIssue({ code: 'custom', path: [field], message: `missing — required when type is ${path.type}` })
    if (path[other] !== undefined) ctx.addIssue({ code: 'custom', path: [other], message: `not allowed when type is ${path.type} — set ${field} instead` })
  })

const port = () => z.int({ error: 'expected a port number from 1 to 65535' }).min(1, { error: 'expected a port number from 1 to 65535' }).max(65535, { error: 'expected a port number from 1 to 65535' })

const preciseHostname = () =>
  z.string({ error: 'expected a host name such as example.com' }).regex(PRECISE_HOSTNAME, { error: 'expected a lower-case host name such as example.com (no wildcard, no port)' })

const HTTPRequestRedirectFilter = z.strictObject({
  scheme: z.enum(['http', 'https'], { error: 'expected http or https' }).optional().meta({ description: 'Scheme of the Location; default the request\'s.' }),
  hostname: preciseHostname().optional().meta({ description: 'Host of the Location; default the request\'s.' }),
  path: HTTPPathModifier.optional().meta({ description: 'Path of the Location; default the request\'s.' }),
  port: port().optional().meta({ description: 'Port of the Location; default per the spec (the scheme\'s well-known port is omitted).' }),
  statusCode: z.union([z.literal(301), z.literal(302), z.literal(303), z.literal(307), z.literal(308)], { error: 'expected 301, 302, 303, 307 or 308' }).default(302).meta({ description: 'Redirect status.' }),
})

const HTTPURLRewriteFilter = z.strictObject({
  hostname: preciseHostname().optional().meta({ description: 'Host header sent upstream.' }),
  path: HTTPPathModifier.optional().meta({ description: 'Path sent upstream.' }),
})

/** `BackendObjectReference`: `name` is a Latch pool; `port` and `namespace` are accepted and ignored. */
const backendObject = {
  group: z.string().max(253).optional().meta({ description: 'Accepted: `""` (core). Any other group is named in a warning and `name` is still read as a pool.' }),
  kind: z.string().max(63).optional().meta({ description: 'Accepted: `Service` (default). Any other kind is named in a warning and `name` is still read as a pool.' }),
  name: z.string({ error: 'expected the name of a pool' }).min(1, { error: 'expected the name of a pool' }).max(253).meta({ description: 'Name of the Latch pool.' }),
  namespace: z.string().max(63).optional().meta({ description: 'Accepted and ignored (pools have no namespace).' }),
  port: port().optional().meta({ description: 'Accepted and ignored: endpoints carry their own ports.' }),
}

const HTTPRequestMirrorFilter = z
  .strictObject({
    backendRef: z.strictObject(backendObject).meta({ description: 'Pool that receives the copy.' }),
    percent: z.int().min(0).max(100).optional().meta({ description: 'Share of requests mirrored, in percent (default 100).' }),
    fraction: z
      .strictObject({
        numerator: z.int().min(0).meta({ description: 'Numerator.' }),
        denominator: z.int().min(1).default(100).meta({ description: 'Denominator.' }),
      })
      .refine((fraction) => fraction.numerator <= fraction.denominator, { error: 'numerator must be less than or equal to denominator', path: ['numerator'] })
      .optional()
      .meta({ description: 'Share of requests mirrored as a fraction.' }),
  })
  .refine((mirror) => mirror.percent === undefined || mirror.fraction === undefined, { error: 'only one of percent or fraction may be specified' })

export const FILTER_TYPES = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestMirror', 'RequestRedirect', 'URLRewrite', 'ExtensionRef', 'CORS', 'ExternalAuth'] as const
/** The field of a filter that holds its settings, by type. */
export const FILTER_FIELDS = {
  RequestHeaderModifier: 'requestHeaderModifier',
  ResponseHeaderModifier: 'responseHeaderModifier',
  RequestMirror: 'requestMirror',
  RequestRedirect: 'requestRedirect',
  URLRewrite: 'urlRewrite',
  ExtensionRef: 'extensionRef',
  CORS: 'cors',
  ExternalAuth: 'externalAuth',
} as const

const HTTPRouteFilter = z
  .strictObject({
    type: z.enum(FILTER_TYPES, { error: `expected one of ${FILTER_TYPES.join(', ')}` }).meta({ description: 'Filter type; `ExtensionRef` and `CORS` are accepted with a warning and not applied, `ExternalAuth` is refused.' }),
    requestHeaderModifier: HTTPHeaderFilter.optional().meta({ description: 'Changes request headers (type RequestHeaderModifier).' }),
    responseHeaderModifier: HTTPHeaderFilter.optional().meta({ description: 'Changes response headers (type ResponseHeaderModifier).' }),
    requestMirror: HTTPRequestMirrorFilter.optional().meta({ description: 'Copies requests to another pool (type RequestMirror).' }),
    requestRedirect: HTTPRequestRedirectFilter.optional().meta({ description: 'Answers with a redirect (type RequestRedirect).' }),
    urlRewrite: HTTPURLRewriteFilter.optional().meta({ description: 'Rewrites host and path (type URLRewrite).' }),
    extensionRef: z.unknown().optional().meta({ description: 'Accepted with a warning, not applied.' }),
    cors: z.unknown().optional().meta({ description: 'Accepted with a warning, not applied.' }),
    externalAuth: z.unknown().optional().meta({ description: 'Refused: Latch does not call external authorisation services.' }),
  })
  .superRefine((filter, ctx) => {
    const own = FILTER_FIELDS[filter.type]
    if (filter[own] === undefined) ctx.addIssue({ code: 'custom', path: [own], message: `missing — required for filter type ${filter.type}` })
    for (const field of Object.values(FILTER_FIELDS)) {
      if (field !== own && filter[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `not allowed for filter type ${filter.type} — it belongs to type ${filterTypeOf(field)}` })
    }
  })

function filterTypeOf(field: string): string {
  return Object.entries(FILTER_FIELDS).find(([, value]) => value === field)?.[0] ?? field
}

/** Filters of a rule or a backendRef, with the CRD's "at most once" rules. */
const filterList = () =>
  z
    .array(HTTPRouteFilter)
    .max(16)
    .superRefine((filters, ctx) => {
      const seen = new Map<string, number>()
      filters.forEach((filter, index) => {
        const earlier = seen.get(filter.type)
        if (earlier !== undefined && filter.type !== 'RequestMirror' && filter.type !== 'ExtensionRef') {
          ctx.addIssue({ code: 'custom', path: [index, 'type'], message: `${filter.type} filter cannot be repeated (already filters[${earlier}])` })
        }
        if (earlier === undefined) seen.set(filter.type, index)
      })
      if (seen.has('RequestRedirect') && seen.has('URLRewrite')) {
        ctx.addIssue({ code: 'custom', path: [seen.get('URLRewrite') as number, 'type'], message: 'RequestRedirect and URLRewrite cannot be used together' })
      }
    })

const HTTPBackendRef = z.strictObject({
  ...backendObject,
  weight: z.int({ error: 'expected a whole number from 0 to 1000000' }).min(0).max(1_000_000).default(1).meta({ description: 'Share of new requests (relative to the other backends); 0 = none.' }),
  filters: filterList().optional().meta({ description: 'Filters applied only when this backend is chosen.' }),
})

const CookieLifetime = z.enum(['Session', 'Permanent'], { error: 'expected Session or Permanent' })

export const SessionPersistence = z
  .strictObject({
    type: z.enum(['Cookie', 'Header'], { error: 'expected Cookie or Header' }).default('Cookie').meta({ description: '`Cookie` or `Header`.' }),
    sessionName: z.string().min(1).max(128).optional().meta({ description: 'Cookie or header name (released experimental field name; default on a rule `latch-route-session`, on a pool the affinity default `latch` or `x-latch-session`).' }),
    absoluteTimeout: gatewayDuration().optional().meta({ description: 'A session ends this long after it began, busy or not.' }),
    idleTimeout: gatewayDuration().optional().meta({ description: 'A session ends after this long without a request (released experimental field).' }),
    cookieConfig: z
      .strictObject({ lifetimeType: CookieLifetime.default('Session').meta({ description: '`Permanent` cookies carry `Max-Age` = absoluteTimeout; `Session` cookies none.' }) })
      .optional()
      .meta({ description: 'Cookie settings (released experimental field name).' }),
    cookie: z
      .strictObject({
        name: z.string().min(1).max(128).optional().meta({ description: 'Cookie name (newer field name for `sessionName`).' }),
        path: z.string().min(1).max(1024).optional().meta({ description: 'Cookie `Path` (default `/`).' }),
        lifetimeType: CookieLifetime.optional().meta({ description: 'As `cookieConfig.lifetimeType` (newer field name).' }),
      })
      .optional()
      .meta({ description: 'Cookie settings (newer field names).' }),
    header: z.strictObject({ name: headerName().meta({ description: 'Header name.' }) }).optional().meta({ description: 'Header settings (newer field names).' }),
  })
  .superRefine((persistence, ctx) => {
    if (persistence.type !== 'Cookie') {
      for (const field of ['cookie', 'cookieConfig'] as const) {
        if (persistence[field] !== undefined) ctx.addIssue({ code: 'custom', path: [field], message: `not allowed when type is ${persistence.type} — ${field} is for type Cookie` })
      }
    }
    if (persistence.type !== 'Header' && persistence.header !== undefined) ctx.addIssue({ code: 'custom', path: ['header'], message: 'not allowed when type is Cookie — header is for type Header' })
    const names = [persistence.sessionName, persistence.cookie?.name, persistence.header?.name].filter((name) => name !== undefined)
    if (new Set(names).size > 1) ctx.addIssue({ code: 'custom', path: ['sessionName'], message: `two different session names (${names.map((name) => JSON.stringify(name)).join(', ')}) — give it once, as sessionName or as ${persistence.type === 'Cookie' ? 'cookie.name' : 'header.name'}` })
    const lifetimes = [persistence.cookieConfig?.lifetimeType, persistence.cookie?.lifetimeType].filter((type) => type !== undefined)
    if (new Set(lifetimes).size > 1) ctx.addIssue({ code: 'custom', path: ['cookie', 'lifetimeType'], message: 'cookieConfig.lifetimeType and cookie.lifetimeType differ — give it once' })
    if (lifetimes.includes('Permanent') && persistence.absoluteTimeout === undefined) {
      ctx.addIssue({ code: 'custom', path: ['absoluteTimeout'], message: 'missing — required when the cookie lifetimeType is Permanent (it becomes the cookie\'s Max-Age)' })
    }
  })

const HTTPRouteRule = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: 'expected a lower-case name such as canary (letters, digits, "-")' }).max(253).optional().meta({ description: 'Rule name, used in metrics, the access log and `/routes` (default `rule-<index>`).' }),
    matches: z.array(HTTPRouteMatch).max(64).optional().meta({ description: 'Conditions, ORed; the parts of one match are ANDed. Default: `PathPrefix /`.' }),
    filters: filterList().optional().meta({ description: 'Filters applied to every request of the rule.' }),
    backendRefs: z.array(HTTPBackendRef).max(16).optional().meta({ description: 'Pools the rule sends to, with weights.' }),
    timeouts: z
      .strictObject({
        request: gatewayDuration().optional().meta({ description: 'Time for the whole request, retries included (`0s` = none).' }),
        backendRequest: gatewayDuration().optional().meta({ description: 'Time for one request to an endpoint (`0s` = none).' }),
      })
      .refine((t) => t.request === undefined || t.backendRequest === undefined || t.request === 0 || t.backendRequest <= t.request, { error: 'backendRequest timeout cannot be longer than request timeout', path: ['backendRequest'] })
      .optional()
      .meta({ description: 'Timeouts (GEP-1742).' }),
    retry: z
      .strictObject({
        codes: z.array(z.int().min(400).max(599, { error: 'expected a status code from 400 to 599' })).optional().meta({ description: 'Statuses that are retried.' }),
        attempts: z.int().min(0).optional().meta({ description: 'Most retries of one request.' }),
        backoff: gatewayDuration().optional().meta({ description: 'Wait before a retry.' }),
      })
      .optional()
      .meta({ description: 'Retries (GEP-1731), within Latch\'s safe-retry rules and retry budget.' }),
    sessionPersistence: SessionPersistence.optional().meta({ description: 'Sticky sessions for this rule (GEP-1619).' }),
  })
  .superRefine((rule, ctx) => {
    const redirect = rule.filters?.some((filter) => filter.type === 'RequestRedirect') ?? false
    if (redirect && (rule.backendRefs?.length ?? 0) > 0) ctx.addIssue({ code: 'custom', path: ['backendRefs'], message: 'RequestRedirect filter must not be used together with backendRefs' })
  })

/** `spec.hostnames[]`: a precise DNS name or `*.` followed by one. */
const Hostname = z.string({ error: 'expected a host name' }).superRefine((host, ctx) => {
  const problem = host === '*' ? `invalid hostname "*" — omit hostnames to match any host` : checkIngressHost(host)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', input: host, message: problem.replace('Ingress does not allow', 'Gateway API does not allow').replace('omit host', 'omit hostnames') })
})

export const HTTPRouteSpec = z.strictObject({
  parentRefs: z.array(z.unknown()).optional().meta({ description: 'Accepted and ignored: Latch is the gateway.' }),
  useDefaultGateways: z.unknown().optional().meta({ description: 'Accepted and ignored: Latch is the gateway.' }),
  hostnames: z.array(Hostname).max(16).optional().meta({ description: 'Hosts this route serves: DNS names or `*.example.com` (one or more extra labels); none = any host.' }),
  rules: z.array(HTTPRouteRule).max(16).optional().meta({ description: 'Rules, in order (at least one: a route without rules routes nothing).' }),
})

/** An HTTPRoute manifest, inline under `routes` or as a document of a manifest file. */
export const HTTPRouteManifest = z.strictObject({
  apiVersion: z.enum(['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'], { error: 'expected apiVersion gateway.networking.k8s.io/v1' }).meta({ description: '`gateway.networking.k8s.io/v1` (or `v1beta1`).' }),
  kind: z.literal('HTTPRoute').meta({ description: '`HTTPRoute`.' }),
  metadata: z
    .looseObject({
      name: z.string().optional().meta({ description: 'Route name: used in rule names, and orders routes that tie (alphabetical by namespace/name).' }),
      namespace: z.string().optional().meta({ description: 'Used only to order routes that tie (default `default`).' }),
      creationTimestamp: z.union([z.string(), z.date()]).optional().meta({ description: 'Orders routes that tie: older first, as the spec says.' }),
      annotations: z.record(z.string(), z.string()).optional().meta({ description: 'Accepted and ignored.' }),
    })
    .optional()
    .meta({ description: 'Kubernetes metadata; other keys are accepted and ignored.' }),
  spec: HTTPRouteSpec.meta({ description: 'The HTTPRoute spec.' }),
  status: z.unknown().optional().meta({ description: 'Accepted and ignored.' }),
})

export type HTTPRouteManifestInput = z.input<typeof HTTPRouteManifest>
export type HTTPRouteConfig = z.output<typeof HTTPRouteManifest>
export type HTTPRouteRuleConfig = NonNullable<HTTPRouteConfig['spec']['rules']>[number]
export type HTTPRouteMatchConfig = NonNullable<HTTPRouteRuleConfig['matches']>[number]
export type HTTPRouteFilterConfig = NonNullable<HTTPRouteRuleConfig['filters']>[number]
export type HTTPBackendRefConfig = NonNullable<HTTPRouteRuleConfig['backendRefs']>[number]
export type SessionPersistenceConfig = NonNullable<HTTPRouteRuleConfig['sessionPersistence']>

/** True for a value that declares itself an HTTPRoute (so it is validated as one). */
export function isHttpRouteObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && (value as { kind?: unknown }).kind === 'HTTPRoute'
}
