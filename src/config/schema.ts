/**
 * @module The config schema: the single source of truth for types, defaults and the README reference.
 *
 * Every field carries its default next to it and a description written for users; `npm run docs`
 * renders the README's configuration reference from this file, and a test fails when they differ.
 */
import { z } from 'zod'
import { IngressSpec } from './ingress-schema.js'
import { cidr, count, duration, endpointUrl, listenAddress, oneOrMany, shorthand, size } from './schema-types.js'

export const BALANCE_POLICIES = ['round-robin', 'least-request', 'random'] as const
export type BalancePolicyName = (typeof BALANCE_POLICIES)[number]

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const POOL_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/

const Listener = shorthand(
  'address',
  z.strictObject({
    address: listenAddress().meta({ description: 'Address to bind, e.g. `0.0.0.0:8080`, `127.0.0.1:8080`, `[::]:8080` or `:8080`.' }),
  }),
)

const Endpoint = shorthand(
  'url',
  z.strictObject({
    url: endpointUrl().meta({ description: 'Endpoint origin, `http://host:port` or `https://host:port`. Its identity is `host:port`.' }),
    weight: count(1, 1000).default(1).meta({ description: 'Relative share of new requests (smooth weighted round-robin, weighted random).' }),
  }),
)

const PoolTimeouts = z.strictObject({
  connect: duration().prefault('3s').meta({ description: 'TCP (and TLS) connect timeout; a timed-out connect is retried on another endpoint.' }),
  responseHeaders: duration().prefault('30s').meta({ description: 'Time from sending the request to receiving the response headers (→ 504).' }),
  bodyIdle: duration().prefault('60s').meta({ description: 'Longest gap between two chunks of the response body (→ 504 before headers are sent, else the client connection is cut).' }),
  keepAlive: duration().prefault('4s').meta({ description: 'How long an idle upstream connection is kept for reuse; keep it below the endpoints\' own keep-alive timeout.' }),
})

const PoolLimits = z.strictObject({
  maxConnectionsPerEndpoint: count(1, 65_535).default(128).meta({ description: 'Upper bound of TCP connections Latch opens to one endpoint.' }),
  maxBodySize: size().optional().meta({ description: 'Request body limit for routes to this pool (overrides `server.maxBodySize`).' }),
})

const Pool = z.strictObject({
  name: z
    .string({ error: 'expected a pool name' })
    .regex(POOL_NAME, { error: 'invalid pool name — expected letters, digits, ".", "_" or "-", starting and ending with a letter or digit' })
    .meta({ description: 'Unique name; Ingress backends refer to it as `backend.service.name`.' }),
  endpoints: z.array(Endpoint, { error: 'expected a list of endpoint URLs' }).default([]).meta({ description: 'Static endpoints: URL strings or `{ url, weight }` objects.' }),
  balance: z.enum(BALANCE_POLICIES, { error: `expected one of ${BALANCE_POLICIES.join(', ')}` }).default('round-robin').meta({ description: 'How a request without a binding picks an endpoint: smooth weighted `round-robin`, `least-request` (power of two choices) or weighted `random`.' }),
  hostHeader: z.string({ error: 'expected "preserve", "endpoint" or a host name' }).min(1).default('preserve').meta({ description: '`preserve` forwards the client\'s Host; `endpoint` sends the endpoint\'s `host:port`; any other value is sent as the Host.' }),
  retries: count(0, 5).default(1).meta({ description: 'Extra attempts on another endpoint after a failure that is safe to retry (connect failures for any method; nothing after response bytes reached the client).' }),
  timeouts: PoolTimeouts.prefault({}),
  limits: PoolLimits.prefault({}),
})

const ServerLimits = z.strictObject({
  headersTimeout: duration().prefault('15s').meta({ description: 'Time a client has to send the complete request headers (→ 408).' }),
  requestTimeout: duration().prefault('60s').meta({ description: 'Time a client has to send the complete request, body included (→ 408); `0` disables it.' }),
  keepAliveTimeout: duration().prefault('65s').meta({ description: 'How long an idle client connection is kept; above the 60s idle timeout of common load balancers.' }),
  idleTimeout: duration().prefault('120s').meta({ description: 'A client socket with no activity for this long is closed (not applied to upgraded connections).' }),
  maxHeaderSize: size().prefault('16KiB').meta({ description: 'Largest request head, request line and headers (→ 431).' }),
  maxHeadersCount: count(1, 1000).default(100).meta({ description: 'Most request headers accepted (→ 431, never silent truncation).' }),
  maxBodySize: size().prefault('10MiB').meta({ description: 'Default request body limit (→ 413), checked on Content-Length before reading and while streaming.' }),
  maxConnections: count(1, 1_000_000).default(10_000).meta({ description: 'Most concurrent client connections; more are refused.' }),
  maxRequestsPerSocket: count(0, 1_000_000).default(1000).meta({ description: 'Requests served on one keep-alive connection before Latch asks the client to reconnect (0 = unlimited).' }),
})

const HeaderPolicy = z.strictObject({
  xForwarded: z.boolean().default(true).meta({ description: 'Send `X-Forwarded-For` (appended), `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Port`.' }),
  forwarded: z.boolean().default(false).meta({ description: 'Also send an RFC 7239 `Forwarded` header (appended to a trusted incoming one).' }),
  via: z.boolean().default(true).meta({ description: 'Append `Via: 1.1 latch` to forwarded requests.' }),
  requestId: z.string().regex(/^[A-Za-z0-9-]+$/, { error: 'expected a header name such as x-request-id' }).default('x-request-id').meta({ description: 'Header carrying the request id: propagated when the client sends a well-formed one, generated otherwise, and returned on the response.' }),
})

const Log = z.strictObject({
  level: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info').meta({ description: 'Level of the process log (JSON lines on stdout).' }),
  access: z.string({ error: 'expected stdout, stderr, off or a file path' }).min(1).default('stdout').meta({ description: 'Where access log lines go: `stdout`, `stderr`, `off`, or a file path (appended, written asynchronously).' }),
})

/** The whole config file. */
export const ConfigSchema = z.strictObject({
  listen: oneOrMany(Listener).prefault(['0.0.0.0:8080']).meta({ description: 'One or more traffic listeners: `host:port` strings or `{ address }` objects.' }),
  trustedProxies: z.array(cidr(), { error: 'expected a list of CIDRs' }).default([]).meta({ description: 'Peers (CIDRs) whose `X-Forwarded-*` and `Forwarded` headers are believed; from anyone else they are replaced. The client IP is read right to left through trusted hops.' }),
  server: ServerLimits.prefault({}),
  headers: HeaderPolicy.prefault({}),
  log: Log.prefault({}),
  pools: z.array(Pool, { error: 'expected a list of pools' }).min(1, { error: 'expected at least one pool' }).meta({ description: 'Named upstream pools.' }),
  routes: oneOrMany(z.union([z.string().min(1), IngressSpec]))
    .optional()
    .meta({ description: 'An Ingress `spec` (`defaultBackend`, `rules`), a path to a file of `networking.k8s.io/v1` Ingress manifests, or a list of both. Omitted with exactly one pool: everything goes to it.' }),
})

export type ConfigInput = z.input<typeof ConfigSchema>
export type Config = z.output<typeof ConfigSchema>
export type PoolConfig = Config['pools'][number]
export type EndpointConfig = PoolConfig['endpoints'][number]
export type ServerConfig = Config['server']
export type HeaderPolicyConfig = Config['headers']
