/**
 * @module Config schema for sticky sessions (affinity), per pool.
 *
 * One `mode` per pool; its options live in the sub-object of the same name. Defaults follow the
 * systems users come from: cookie name `latch`, `Path=/`, HttpOnly, SameSite=Lax (Caddy, Traefik);
 * client-IP timeout 10800 s (Kubernetes `sessionAffinityConfig.clientIP.timeoutSeconds`).
 */
import { z } from 'zod'
import { duration, ratio } from './schema-types.js'

export const AFFINITY_MODES = ['none', 'cookie', 'header', 'client-ip', 'hash', 'learn'] as const
export type AffinityMode = (typeof AFFINITY_MODES)[number]

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const HEADER_NAME = /^[A-Za-z0-9-]+$/

/** Whether `name` may be a cookie's name (an RFC 6265 token). */
export function isCookieName(name: string): boolean {
  return COOKIE_NAME.test(name)
}

const Lifetimes = {
  maxAge: duration().optional().meta({ description: 'Absolute session lifetime from the first binding, enforced by Latch (a session cookie when neither maxAge nor idleTimeout is set).' }),
  idleTimeout: duration().optional().meta({ description: 'Sliding lifetime: a session unused this long expires. The token is re-issued only past half of it, not on every response.' }),
}

const CookieOptions = z.strictObject({
  name: z.string().regex(COOKIE_NAME, { error: 'expected a cookie name (letters, digits, !#$%&\'*+-.^_`|~)' }).default('latch').meta({ description: 'Cookie name. A `__Secure-` or `__Host-` prefix makes Latch always set `Secure` (browsers require it); `__Host-` also needs `path: /` and no `domain`.' }),
  path: z.string().startsWith('/', { error: 'expected a path starting with "/"' }).default('/').meta({ description: 'Cookie `Path`.' }),
  domain: z.string().min(1).optional().meta({ description: 'Cookie `Domain` (omitted by default: host-only cookie).' }),
  secure: z.enum(['auto', 'always', 'never'], { error: 'expected auto, always or never' }).default('auto').meta({ description: '`auto`: `Secure` when the client connection is TLS or a trusted proxy says https (`X-Forwarded-Proto`, else RFC 7239 `Forwarded: proto=`); SameSite=None always forces it.' }),
  httpOnly: z.boolean().default(true).meta({ description: 'Cookie `HttpOnly`.' }),
  sameSite: z.enum(['Lax', 'Strict', 'None'], { error: 'expected Lax, Strict or None' }).default('Lax').meta({ description: 'Cookie `SameSite`; `None` forces `Secure`.' }),
  ...Lifetimes,
  forwardToUpstream: z.boolean().default(false).meta({ description: 'Keep the affinity cookie in the request sent upstream (removed by default).' }),
})

const HeaderOptions = z.strictObject({
  name: z.string().regex(HEADER_NAME, { error: 'expected a header name' }).default('x-latch-session').meta({ description: 'Request and response header carrying the binding token.' }),
  ...Lifetimes,
})

const ClientIpOptions = z.strictObject({
  timeout: duration().prefault('10800s').meta({ description: 'Sliding binding lifetime (Kubernetes ClientIP default: 3 h).' }),
  ipv4Prefix: z.int().min(0).max(32).default(32).meta({ description: 'IPv4 prefix grouping clients onto one binding (e.g. 24 = a /24 sticks together).' }),
  ipv6Prefix: z.int().min(0).max(128).default(128).meta({ description: 'IPv6 prefix grouping clients onto one binding (e.g. 64).' }),
})

const HashOptions = z.strictObject({
  key: z
    .string({ error: 'expected client-ip, path, header:NAME, cookie:NAME or query:NAME' })
    .regex(/^(client-ip|path|(header|cookie|query):[^:\s]+)$/, { error: 'expected client-ip, path, header:NAME, cookie:NAME or query:NAME' })
    .default('client-ip')
    .meta({ description: 'What is hashed: `client-ip` (through trustedProxies), `path`, `header:NAME`, `cookie:NAME` or `query:NAME`. A request without the key is balanced normally.' }),
  boundedLoad: ratio().optional().meta({ description: 'Consistent hashing with bounded loads: no endpoint takes more than (1 + boundedLoad) × the mean in-flight requests; overflow goes to the next endpoint in hash order.' }),
})

const LearnOptions = z.strictObject({
  source: z.enum(['cookie', 'header', 'query'], { error: 'expected cookie, header or query' }).default('cookie').meta({ description: 'Where the application\'s session id travels.' }),
  name: z.string().min(1).default('JSESSIONID').meta({ description: 'Cookie, header or query parameter name, e.g. `JSESSIONID`, `connect.sid`, `sid` (Socket.IO).' }),
  timeout: duration().prefault('1h').meta({ description: 'Sliding lifetime of a learned binding.' }),
})

/** Per-pool affinity settings. */
export const Affinity = z
  .strictObject({
    mode: z.enum(AFFINITY_MODES, { error: `expected one of ${AFFINITY_MODES.join(', ')}` }).default('none').meta({ description: 'How requests stick to an endpoint: `cookie` (Latch sets a signed cookie), `header` (signed token in a header, for non-browser clients), `client-ip` (binding table keyed by client IP), `hash` (stateless consistent hashing), `learn` (the application\'s own session id), or `none`.' }),
    onUnavailable: z.enum(['rebind', 'fail'], { error: 'expected rebind or fail' }).default('rebind').meta({ description: 'When a session\'s endpoint is unavailable: `rebind` (pick a new one, once; logged and flagged `rebound`) or `fail` (503 with Retry-After while the endpoint is still in the pool, for apps that must not silently lose state; an endpoint removed for good is rebound).' }),
    responseHeader: z.boolean().default(false).meta({ description: 'Add `X-Latch-Affinity: hit|new|rebound|expired|invalid` to responses (on by default in quick mode).' }),
    liveSessionWindow: duration().prefault('30m').meta({ description: 'A session counts as live (admin API, metrics, least-sessions) while seen within this window, unless idleTimeout is shorter.' }),
    cookie: CookieOptions.prefault({}).meta({ description: 'Options of `mode: cookie`.' }),
    header: HeaderOptions.prefault({}).meta({ description: 'Options of `mode: header`.' }),
    clientIp: ClientIpOptions.prefault({}).meta({ description: 'Options of `mode: client-ip`.' }),
    hash: HashOptions.prefault({}).meta({ description: 'Options of `mode: hash`.' }),
    learn: LearnOptions.prefault({}).meta({ description: 'Options of `mode: learn`.' }),
  })
  .superRefine((affinity, ctx) => {
    if (affinity.cookie.sameSite === 'None' && affinity.cookie.secure === 'never') {
      ctx.addIssue({ code: 'custom', path: ['cookie', 'secure'], message: 'SameSite=None cookies must be Secure — use secure: auto or always' })
    }
    // Browsers drop a __Secure- cookie without Secure, and a __Host- one also unless Path=/ without Domain (RFC 6265bis §4.1.3).
    const prefix = cookiePrefix(affinity.cookie.name)
    if (prefix === undefined) return
    if (affinity.cookie.secure === 'never') ctx.addIssue({ code: 'custom', path: ['cookie', 'secure'], message: `browsers reject a ${prefix} cookie without Secure — use secure: auto or always (Latch always sets Secure on it)` })
    if (prefix === '__Host-' && affinity.cookie.path !== '/') ctx.addIssue({ code: 'custom', path: ['cookie', 'path'], message: 'browsers reject a __Host- cookie whose Path is not "/" — use path: / or another cookie name' })
    if (prefix === '__Host-' && affinity.cookie.domain !== undefined) ctx.addIssue({ code: 'custom', path: ['cookie', 'domain'], message: 'browsers reject a __Host- cookie with a Domain — remove cookie.domain or use another cookie name' })
  })

/** The `__Secure-` or `__Host-` name prefix browsers give rules to (matched case-insensitively, as they do). */
export function cookiePrefix(name: string): '__Secure-' | '__Host-' | undefined {
  const lower = name.toLowerCase()
  return lower.startsWith('__host-') ? '__Host-' : lower.startsWith('__secure-') ? '__Secure-' : undefined
}

export type AffinityConfig = z.output<typeof Affinity>

/** Session-token secrets: the first signs, every one verifies (rotation). */
export const SessionSecrets = z
  .array(z.string().min(16, { error: 'expected a secret of at least 16 characters (use ${SESSION_SECRET})' }), { error: 'expected a list of secrets' })
  .default([])
  .meta({ description: 'Secrets for signed affinity tokens (cookie and header modes). The first signs, all verify, so a new secret can be rolled in first and an old one removed later. Empty: a random secret is generated at start (replicas then do not share sessions unless a Redis store shares it).' })
