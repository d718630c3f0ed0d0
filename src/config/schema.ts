/**
 * @module The config schema: the single source of truth for types, defaults and the README reference.
 *
 * Every field carries its default next to it and a description written for users; `npm run docs`
 * renders the README's configuration reference from this file, and a test fails when they differ.
 */
import { z } from 'zod'
import { HTTPRouteManifest, SessionPersistence } from './httproute-schema.js'
import { IngressSpec } from './ingress-schema.js'
import { cidr, count, duration, endpointUrl, keywordOrName, listenAddress, oneOrMany, ratio, shorthand, size, timerDuration } from './schema-types.js'
import { Affinity, SessionSecrets } from './affinity-schema.js'
import { poolSessionPersistenceProblems, sessionPersistenceAffinity } from './pool-session-persistence.js'
import { ActiveHealthCheck, Discovery, PassiveHealth } from './health-schema.js'
import { isLoopbackHost, isValidHostHeader, parseListenAddress } from '../net/address.js'
import { ListenerHttp2, ListenerTls, UpstreamTls } from './tls-schema.js'
import { Store } from './store-schema.js'
import { Tracing } from './tracing-schema.js'
import { AccessFormat } from './access-log-schema.js'

export const BALANCE_POLICIES = ['round-robin', 'least-request', 'random', 'least-sessions'] as const
export type BalancePolicyName = (typeof BALANCE_POLICIES)[number]

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

/** Upper bound of `workers`: a typo such as 1000 should not fork a thousand processes. */
export const MAX_WORKERS = 256

/** `protocol` of a pool: how Latch speaks to its endpoints. */
export const UPSTREAM_PROTOCOLS = ['http1', 'h2', 'h2c'] as const
export type UpstreamProtocol = (typeof UPSTREAM_PROTOCOLS)[number]

/** `proxyProtocol` of a listener: which PROXY protocol header versions it requires. */
export const PROXY_PROTOCOL_MODES = ['off', 'v1', 'v2', 'either'] as const
/** `proxyProtocol` of a pool: which PROXY protocol header Latch sends its endpoints. */
export const UPSTREAM_PROXY_PROTOCOL_MODES = ['off', 'v1', 'v2'] as const

const POOL_NAME = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,126}[A-Za-z0-9])?$/

const Listener = shorthand(
  'address',
  z
    .strictObject({
      address: listenAddress().meta({ description: 'Address to bind, e.g. `0.0.0.0:8080`, `127.0.0.1:8080` or `[::]:8080`; a port alone (`8080` or `:8080`) binds every interface.' }),
      tls: ListenerTls.optional().meta({ description: 'Terminate TLS on this listener (HTTPS). Omitted: cleartext.' }),
      http2: ListenerHttp2.optional().meta({ description: 'HTTP/2 for clients. On a TLS listener (default `true`) it is offered by ALPN beside HTTP/1.1. On a cleartext listener only `h2c` turns it on: HTTP/2 with prior knowledge, and then HTTP/1.1 is not served on that listener. Default: `true` with `tls`, `false` without.' }),
      proxyProtocol: z.enum(PROXY_PROTOCOL_MODES, { error: `expected one of ${PROXY_PROTOCOL_MODES.join(', ')}` }).optional().meta({ description: 'PROXY protocol (HAProxy\'s, as AWS NLB, GCP, Azure and HAProxy send it): `v1` (text), `v2` (binary), `either`, or `off` (default). When on, every connection must start with the header, before TLS; the client address it carries is the client for affinity, `X-Forwarded-For`, `Forwarded`, logs and metrics. Connections from outside `proxyProtocolFrom`, or with a missing, malformed or truncated header, or none within 3 s, are closed unanswered (`latch_proxy_protocol_refused_total`).' }),
      proxyProtocolFrom: z.array(cidr(), { error: 'expected a list of CIDRs' }).optional().meta({ description: 'The load balancers allowed to send a PROXY protocol header (CIDRs); required when `proxyProtocol` is on. Anyone who can reach the listener directly could otherwise claim any client address.' }),
    })
    .superRefine((listener, ctx) => {
      if (listener.tls !== undefined && listener.http2 === 'h2c') ctx.addIssue({ code: 'custom', path: ['http2'], message: 'h2c is cleartext HTTP/2 — on a TLS listener HTTP/2 is negotiated by ALPN: use true (or false for HTTP/1.1 only)' })
      if (listener.proxyProtocol !== undefined && listener.proxyProtocol !== 'off' && (listener.proxyProtocolFrom ?? []).length === 0) ctx.addIssue({ code: 'custom', path: ['proxyProtocolFrom'], message: `required when proxyProtocol is ${listener.proxyProtocol} — list the load balancers' addresses (CIDRs, e.g. [10.0.0.0/8]) so nobody else can claim a client address` })
      if (listener.tls === undefined && listener.http2 === true) ctx.addIssue({ code: 'custom', path: ['http2'], message: 'HTTP/2 over cleartext needs prior knowledge — use "h2c", or add tls to negotiate it by ALPN' })
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
  maxRequestsPerEndpoint: count(1, 65_535).default(128).meta({ description: 'Most requests in flight to one endpoint (also its most open connections). Further requests wait in the pending queue.' }),
  maxPending: count(0, 1_000_000).default(1024).meta({ description: 'Most requests of this pool waiting for a free endpoint slot; beyond it they get 503 with Retry-After at once.' }),
  queueTimeout: duration().prefault('3s').meta({ description: 'Longest wait in the pending queue before 503 with Retry-After.' }),
  maxBodySize: size().optional().meta({ description: 'Request body limit for routes to this pool (overrides `server.maxBodySize`).' }),
})

const Retry = z.strictObject({
  attempts: count(0, 5).default(1).meta({ description: 'Extra attempts on another endpoint after a failure that is safe to retry: a connect failure (any method), a reset before any response byte (GET/HEAD/OPTIONS/TRACE without body), or a status in `onStatus` (bodiless safe methods). Never after response bytes reached the client.' }),
  onStatus: z.array(z.int().min(500).max(599), { error: 'expected a list of 5xx status codes' }).default([]).meta({ description: 'Upstream statuses that are retried like a reset, e.g. `[502, 503, 504]`.' }),
  budget: ratio().default(0.2).meta({ description: 'Retries may add at most this share of the requests of the last 10 s (Linkerd-style retry budget), so a failing pool cannot multiply its load.' }),
  minRetriesPerSecond: count(0, 10_000).default(10).meta({ description: 'Retries always allowed per second regardless of the budget (keeps retries working at low traffic).' }),
})

const Pool = z
  .strictObject({
  name: z
    .string({ error: 'expected a pool name' })
    .regex(POOL_NAME, { error: 'invalid pool name — expected letters, digits, ".", "_" or "-", starting and ending with a letter or digit' })
    .meta({ description: 'Unique name; Ingress backends refer to it as `backend.service.name`.' }),
  endpoints: z.array(Endpoint, { error: 'expected a list of endpoint URLs' }).default([]).meta({ description: 'Static endpoints: URL strings or `{ url, weight }` objects.' }),
  balance: z.enum(BALANCE_POLICIES, { error: `expected one of ${BALANCE_POLICIES.join(', ')}` }).default('round-robin').meta({ description: 'How a request without a binding picks an endpoint: smooth weighted `round-robin`, `least-request` (power of two choices), weighted `random`, or `least-sessions` (fewest live bound sessions, so new endpoints fill up after a scale-out).' }),
  hostHeader: keywordOrName(['preserve', 'endpoint'], 'preserve, endpoint, or a host name such as app.example.com').default('preserve').meta({ description: '`preserve` forwards the client\'s Host; `endpoint` sends the endpoint\'s `host:port`; any other value is sent as the Host.' }),
  retry: Retry.prefault({}).meta({ description: 'When and how much to retry on another endpoint.' }),
  timeouts: PoolTimeouts.prefault({}).meta({ description: 'Timeouts for requests to this pool\'s endpoints. Upgrades (WebSocket, h2c) get `connect` and `responseHeaders` too, up to the endpoint\'s answer to the handshake; an open tunnel is bounded by `server.tunnelIdleTimeout` instead.' }),
  limits: PoolLimits.prefault({}).meta({ description: 'Concurrency, queue and body limits for this pool.' }),
  // Optional here (not prefaulted) so a pool giving both affinity and sessionPersistence can be told apart; the transform below fills it.
  affinity: Affinity.optional().meta({ description: 'Sticky sessions: how a client\'s requests keep reaching the same endpoint. Omitted: `mode: none`, or what `sessionPersistence` maps to.' }),
  sessionPersistence: SessionPersistence.optional().meta({ description: 'Sticky sessions in Gateway API terms (GEP-1619, as on an HTTPRoute rule, either generation of field names), the default for every route to this pool; instead of `affinity`, onto which it maps: `type: Cookie|Header` → `mode: cookie|header`, `sessionName` (`cookie.name`, `header.name`) → the cookie or header name (default `latch` / `x-latch-session`), `absoluteTimeout` → `maxAge`, `idleTimeout` → `idleTimeout`, `cookie.path` → `cookie.path`; `Permanent` cookies carry `Max-Age` = what is left of absoluteTimeout, `Session` cookies (the default) none.' }),
  healthCheck: ActiveHealthCheck.optional().meta({ description: 'Active health checks, HTTP or gRPC (`type`); omitted = none (passive health still applies).' }),
  passiveHealth: PassiveHealth.prefault({}).meta({ description: 'Passive health: eject endpoints that keep failing real requests (outlier detection).' }),
  discovery: Discovery.optional().meta({ description: 'DNS discovery of endpoints (Kubernetes headless Services, docker-compose service names), beside or instead of static `endpoints`.' }),
  tls: UpstreamTls.optional().meta({ description: 'TLS settings for this pool\'s `https://` endpoints (proxied requests, upgrades and health checks alike). Omitted: system CAs, SNI from the URL host, TLS 1.2+.' }),
  proxyProtocol: z.enum(UPSTREAM_PROXY_PROTOCOL_MODES, { error: `expected one of ${UPSTREAM_PROXY_PROTOCOL_MODES.join(', ')}` }).default('off').meta({ description: 'Send a PROXY protocol header (`v1` text or `v2` binary, HAProxy `send-proxy` / `send-proxy-v2`) first on every connection to this pool\'s endpoints, before TLS, carrying the client address Latch uses (after a listener\'s PROXY protocol and `trustedProxies`), for endpoints that want it at L4. Such a connection speaks for one client connection only, so it is never shared with another (see the cloud load balancer guide). Upgrades (WebSocket) send it too; active health checks send one that names no client (v1 `UNKNOWN`, v2 `LOCAL`). `off` by default.' }),
  drainTimeout: duration().prefault('30s').meta({ description: 'How long an endpoint removed from the config or from discovery keeps finishing in-flight work (and serving bound sessions) before its connections close.' }),
  protocol: z.enum(UPSTREAM_PROTOCOLS, { error: `expected one of ${UPSTREAM_PROTOCOLS.join(', ')}` }).default('http1').meta({ description: 'How Latch speaks to the endpoints: `http1` (HTTP/1.1, default), `h2` (HTTP/2 over TLS, negotiated by ALPN: `https://` endpoints), or `h2c` (cleartext HTTP/2 with prior knowledge: `http://` endpoints). gRPC services need `h2` or `h2c` (see the gRPC guide). All requests of a `h2`/`h2c` pool share one HTTP/2 connection per endpoint; WebSocket upgrades are not proxied to them.' }),
})
  .superRefine((pool, ctx) => {
    if (pool.sessionPersistence === undefined) return
    if (pool.affinity !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['sessionPersistence'], message: 'both affinity and sessionPersistence are set — a pool takes its sticky sessions from one of them (sessionPersistence maps onto affinity); remove one of the two keys' })
    }
    for (const [path, message] of poolSessionPersistenceProblems(pool.sessionPersistence)) ctx.addIssue({ code: 'custom', path: ['sessionPersistence', ...path], message })
  })
  .superRefine((pool, ctx) => {
    if (pool.protocol === 'http1') return
    // PROXY headers go on connections private to one client connection; HTTP/2 multiplexes every client on one.
    if (pool.proxyProtocol !== 'off') ctx.addIssue({ code: 'custom', path: ['proxyProtocol'], message: `proxyProtocol is supported with protocol: http1 only — an ${pool.protocol} connection carries many clients' requests, so no one client address fits it` })
    const scheme = pool.protocol === 'h2' ? 'https:' : 'http:'
    pool.endpoints.forEach((endpoint, index) => {
      if (URL.canParse(endpoint.url) && new URL(endpoint.url).protocol !== scheme) ctx.addIssue({ code: 'custom', path: ['endpoints', index], message: pool.protocol === 'h2' ? 'protocol h2 is HTTP/2 over TLS — expected an https:// endpoint (use protocol h2c for cleartext http:// endpoints)' : 'protocol h2c is cleartext HTTP/2 — expected an http:// endpoint (use protocol h2 for https:// endpoints)' })
    })
    if (pool.discovery !== undefined && pool.discovery.scheme !== scheme.slice(0, -1)) ctx.addIssue({ code: 'custom', path: ['discovery', 'scheme'], message: `protocol ${pool.protocol} needs discovery.scheme ${scheme.slice(0, -1)}` })
  })
  // The pool's affinity, whichever key gave it (sessionPersistence maps onto it, at load).
  .transform((pool) => ({ ...pool, affinity: pool.affinity ?? (pool.sessionPersistence === undefined ? Affinity.parse({}) : sessionPersistenceAffinity(pool.sessionPersistence)) }))

/** Largest `server.requestBody.bufferSize`: a bigger buffer would let each connection pin that much memory. */
export const MAX_BODY_BUFFER = 16 * 1024 * 1024

const MinUploadRate = z
  .strictObject({
    bytes: size().prefault('4KiB').meta({ description: 'Least a streamed request body must deliver in every `window` while Latch waits for it; less is cut (→ 408 `ERR_BODY_TOO_SLOW`, or the connection is cut when the response has started) and the upstream request aborted. `0` disables the rule.' }),
    window: duration().prefault('10s').meta({ description: 'The window over which `bytes` is measured. A window in which the endpoint was not reading does not count against the client.' }),
  })
  .superRefine((rate, ctx) => {
    if (rate.bytes > 0 && rate.window <= 0) ctx.addIssue({ code: 'custom', path: ['window'], message: 'expected a window longer than 0 while minRate.bytes is set (use bytes: 0 to disable the rule)' })
  })

const RequestBody = z.strictObject({
  bufferSize: size()
    .refine((bytes) => bytes <= MAX_BODY_BUFFER, { error: 'expected at most 16MiB (every connection may hold this much memory)' })
    .prefault('64KiB')
    .meta({ description: 'A request body of at most this size is read whole before an endpoint is chosen; a larger or chunked one has this much read first, then streams. A client that trickles its body holds a connection, never an upstream slot. `0` streams every body from its first byte.' }),
  bufferTimeout: duration().prefault('30s').meta({ description: 'Time a client has to send the buffered part of its body, from the end of its headers (→ 408 `ERR_BODY_TIMEOUT`); `0` leaves only `requestTimeout`.' }),
  minRate: MinUploadRate.prefault({}).meta({ description: 'Minimum upload rate of the part of a body that streams upstream (what does not fit `bufferSize`).' }),
})

const ServerLimits = z.strictObject({
  headersTimeout: duration().prefault('15s').meta({ description: 'Time a client has to send the complete request headers (→ 408).' }),
  requestTimeout: duration().prefault('60s').meta({ description: 'Time a client has to send the complete request, body included (→ 408); `0` disables it.' }),
  keepAliveTimeout: duration().prefault('65s').meta({ description: 'How long an idle client connection is kept; above the 60s idle timeout of common load balancers.' }),
  idleTimeout: duration().prefault('120s').meta({ description: 'A client socket with no activity for this long is closed (upgraded connections: until the upstream accepts the upgrade).' }),
  // HAProxy's manual pairs `timeout tunnel 1h` with `timeout client-fin 30s` for WebSockets;
  // ingress-nginx's WebSocket advice is proxy-read/send-timeout 3600. Apps keep live sockets busy
  // with pings far more often (Socket.IO 25 s, SignalR 15 s), so an hour only frees dead tunnels.
  tunnelIdleTimeout: timerDuration().prefault('1h').meta({ description: 'An upgraded connection (WebSocket, h2c) with no traffic either way for this long is closed on both sides (nginx `proxy_read_timeout`, HAProxy `timeout tunnel`); at most `24d`, `0` disables it.' }),
  tunnelHalfClosedTimeout: timerDuration().prefault('30s').meta({ description: 'Once one side of an upgraded connection has closed its direction (or gone), the tunnel is closed after this long without traffic, if that is shorter than tunnelIdleTimeout (HAProxy `timeout client-fin`/`server-fin`); at most `24d`, `0` disables it.' }),
  maxHeaderSize: size().prefault('16KiB').meta({ description: 'Largest request head, request line and headers (→ 431).' }),
  maxHeadersCount: count(1, 1000).default(100).meta({ description: 'Most request headers accepted (→ 431, never silent truncation).' }),
  maxBodySize: size().prefault('10MiB').meta({ description: 'Default request body limit (→ 413), checked on Content-Length before reading and while streaming.' }),
  requestBody: RequestBody.prefault({}).meta({ description: 'Request body buffering and minimum upload rate: the defence against slow uploads taking every upstream slot (see "Request bodies").' }),
  maxConnections: count(1, 1_000_000).default(10_000).meta({ description: 'Most concurrent client connections; more are refused.' }),
  // Default unlimited (like HAProxy and Envoy): Node answers 503 to a request that races the
  // closing `Connection: close` response, which clients that ignore it (load generators) hit.
  maxRequestsPerSocket: count(0, 1_000_000).default(0).meta({ description: 'Requests served on one keep-alive connection before Latch asks the client to reconnect (0 = unlimited). A client that sends another request on the connection anyway gets 503 from Node.' }),
})

const HeaderPolicy = z.strictObject({
  xForwarded: z.boolean().default(true).meta({ description: 'Send `X-Forwarded-For` (appended), `X-Forwarded-Proto`, `X-Forwarded-Host` and `X-Forwarded-Port`.' }),
  forwarded: z.boolean().default(false).meta({ description: 'Also send an RFC 7239 `Forwarded` header (appended to a trusted incoming one).' }),
  via: z.boolean().default(true).meta({ description: 'Append `Via: 1.1 latch` to forwarded requests.' }),
  requestId: z.string().regex(/^[A-Za-z0-9-]+$/, { error: 'expected a header name such as x-request-id' }).default('x-request-id').meta({ description: 'Header carrying the request id: propagated when the client sends a well-formed one, generated otherwise, and returned on the response.' }),
})

const Admin = z.strictObject({
  listen: z.union([listenAddress(), z.literal(false)], { error: 'expected an address such as 127.0.0.1:9901, or false to disable the admin listener' }).default('127.0.0.1:9901').meta({ description: 'Admin API and `/metrics` listener (never the traffic port); `false` disables it.' }),
  token: z.string().min(16, { error: 'expected a token of at least 16 characters' }).optional().meta({ description: 'Bearer token required by mutating admin calls; mandatory when `admin.listen` is not a loopback address (127.0.0.0/8 or ::1; a name, even `localhost`, is not). Use `${ADMIN_TOKEN}`.' }),
  allowedHosts: z.array(z.string().refine(isValidHostHeader, { error: 'expected a Host value such as latch-admin.latch.svc:9901 or 127.0.0.1:19901' })).default([]).meta({ description: 'Further `Host` values the admin API accepts besides the listener\'s own IP address and `localhost` (a name or address, with a port to match only that port): a Service name, or a published Docker port. List only names that web pages cannot point at this listener.' }),
}).superRefine((admin, ctx) => {
  if (admin.listen === false || admin.token !== undefined) return
  const parsed = parseListenAddress(admin.listen)
  if (typeof parsed !== 'string' && !isLoopbackHost(parsed.host)) {
    ctx.addIssue({ code: 'custom', path: ['token'], message: `required because admin.listen (${admin.listen}) is not a loopback address (127.0.0.0/8 or ::1; a name, even localhost, counts as not loopback) — set a token of at least 16 characters (e.g. \${ADMIN_TOKEN}) or listen on 127.0.0.1` })
  }
})

const Shutdown = z.strictObject({
  drainDelay: duration().prefault('5s').meta({ description: 'After SIGTERM/SIGINT, `/readyz` fails at once but listeners keep accepting this long (responses carry `Connection: close`), so Kubernetes and load balancers stop sending first.' }),
  drainTimeout: duration().prefault('20s').meta({ description: 'Then in-flight requests and upgraded connections get this long to finish before they are closed and Latch exits 0. drainDelay + drainTimeout should stay below the Pod\'s terminationGracePeriodSeconds (30 s by default).' }),
})

const Reload = z.strictObject({
  watch: z.boolean().default(true).meta({ description: 'Reload when the config file or a manifest file it names changes (SIGHUP and `POST /reload` always work).' }),
  debounce: duration().prefault('300ms').meta({ description: 'Wait this long after the last change event before reloading (editors write in bursts).' }),
})

const Log = z.strictObject({
  level: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info').meta({ description: 'Level of the process log (JSON lines on stdout).' }),
  access: z.string({ error: 'expected stdout, stderr, off or a file path' }).min(1).default('stdout').meta({ description: 'Where access log lines go: `stdout`, `stderr`, `off`, or a file path (appended). Lines are written in batches, at most 100 ms after the request; all of them at shutdown.' }),
  accessFormat: AccessFormat,
})

/** The whole config file. */
export const ConfigSchema = z.strictObject({
  workers: z
    .union([z.int().min(1).max(MAX_WORKERS), z.literal('auto')], { error: `expected a number of worker processes from 1 to ${MAX_WORKERS}, or auto` })
    .default(1)
    .meta({ description: 'Worker processes sharing the traffic listeners (`auto` = one per CPU core, `os.availableParallelism()`). 1 runs a single process; more start a supervisor that restarts crashed workers, serves the admin API and aggregates metrics, and shares affinity state between workers. Changes need a restart. `--workers` overrides it.' }),
  listen: oneOrMany(Listener).prefault(['0.0.0.0:8080']).meta({ description: 'One or more traffic listeners: `host:port` strings or `{ address, tls, http2, proxyProtocol, proxyProtocolFrom }` objects.' }),
  sessionSecrets: SessionSecrets,
  store: Store.prefault({}).meta({ description: 'Where affinity state lives (`client-ip` and `learn` bindings, re-pick decisions, live-session counts): `memory` (default) or `redis`, shared by replicas. See "Several replicas with Redis". Changes need a restart.' }),
  trustedProxies: z.array(cidr(), { error: 'expected a list of CIDRs' }).default([]).meta({ description: 'Peers (CIDRs) whose `X-Forwarded-*` and `Forwarded` headers are believed; from anyone else they are replaced. The client IP is read right to left through trusted hops.' }),
  server: ServerLimits.prefault({}).meta({ description: 'Limits and timeouts for client connections on every listener.' }),
  headers: HeaderPolicy.prefault({}).meta({ description: 'Which forwarding and request-id headers Latch adds to proxied requests.' }),
  log: Log.prefault({}).meta({ description: 'Process log and access log.' }),
  tracing: Tracing.prefault({}).meta({ description: 'W3C Trace Context (`traceparent`) and OTLP span export. See docs/guides/tracing-and-logs.md.' }),
  admin: Admin.prefault({}).meta({ description: 'The admin listener (admin API and `/metrics`).' }),
  shutdown: Shutdown.prefault({}).meta({ description: 'Graceful shutdown on SIGTERM/SIGINT.' }),
  reload: Reload.prefault({}).meta({ description: 'Hot reload: SIGHUP, `POST /reload` on the admin API, and file changes.' }),
  pools: z.array(Pool, { error: 'expected a list of pools' }).min(1, { error: 'expected at least one pool' }).meta({ description: 'Named upstream pools.' }),
  // An invalid entry saying `kind: HTTPRoute` is reported against HTTPRouteManifest alone (load.ts),
  // not against whichever union branch zod picks.
  routes: oneOrMany(z.union([z.string().min(1), HTTPRouteManifest, IngressSpec]))
    .optional()
    .meta({ description: 'An Ingress `spec` (`defaultBackend`, `rules`), a Gateway API HTTPRoute manifest (`kind: HTTPRoute`), a path to a file of `networking.k8s.io/v1` Ingress and `gateway.networking.k8s.io/v1` HTTPRoute manifests, or a list of these. Omitted with exactly one pool: everything goes to it.' }),
})

export type ConfigInput = z.input<typeof ConfigSchema>
export type Config = z.output<typeof ConfigSchema>
export type PoolConfig = Config['pools'][number]
export type EndpointConfig = PoolConfig['endpoints'][number]
export type ServerConfig = Config['server']
export type RequestBodyConfig = ServerConfig['requestBody']
export type ListenerConfig = Config['listen'][number]
export type HeaderPolicyConfig = Config['headers']
export type AdminConfig = Config['admin']
export type ShutdownConfig = Config['shutdown']
export type ActiveHealthCheckConfig = NonNullable<PoolConfig['healthCheck']>
export type PassiveHealthConfig = PoolConfig['passiveHealth']
export type DiscoveryConfig = NonNullable<PoolConfig['discovery']>
