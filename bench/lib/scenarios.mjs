/**
 * @module The scenario table: name → how Latch starts → how requests are shaped → what is checked.
 *
 * Adding a scenario is adding an entry to SCENARIOS:
 * - `latch(ctx)` returns `{ args }` (quick-mode CLI flags; the runner adds `--listen 127.0.0.1:0` and
 *   `--log-level info`) or `{ config }` (a config object, written to a temp JSON file and passed as
 *   `--config`; start from `baseConfig(ctx)`, which listens on 127.0.0.1:0). `ctx` has `upstreams` (URLs),
 *   `accessLogFile` (a fresh temp path; its lines are counted after Latch stops), `tmpFile(name)` and
 *   `redisUrl()` (scenarios with `redis: true` get a fresh redis-server per run, pinned with the upstreams),
 *   `otlpUrl()` (scenarios with `otlpSink: true` get an OTLP/HTTP sink per run, pinned likewise; lib/otlp-sink.mjs).
 * - `shape`: a key of SHAPES (request-shapes.mjs).
 * - `baseline`: another scenario's name; when both run, the table shows this ÷ that (same repeat).
 * - `preamble`: a key of PREAMBLES (preambles.mjs): bytes every connection sends first (PROXY protocol);
 *   the direct figure of its shape is measured without it.
 * - `accessLogIn: 'stdout'`: the access lines are counted in Latch's stdout (the bench's Latch log file)
 *   instead of `ctx.accessLogFile`.
 * - `checks`: functions of the evidence `{ probe, load, accessLogLines, exit, spansExported }` returning
 *   `{ name, ok, detail }`; a failed check marks the run in the table and the JSON.
 */
import { SHAPES } from './request-shapes.mjs'

/** A full config equivalent to quick mode (for `{ config }` scenarios): one pool, round robin, no access log, no admin listener. */
export function baseConfig(ctx) {
  return {
    listen: ['127.0.0.1:0'],
    log: { level: 'info', access: 'off' },
    // As quick mode: a config file's default admin listener also turns on the per-request metrics
    // (about 7 µs of CPU per request), which a quick-mode baseline does not pay.
    admin: { listen: false },
    pools: [{ name: 'default', endpoints: [...ctx.upstreams] }],
  }
}

/** Every upstream answered the sequential probe, and every probe response was 200. */
function probeSpread({ probe }) {
  const served = Object.keys(probe.upstreams).filter((name) => name !== '(none)').length
  const ok = probe.statuses[200] === probe.count && served === probe.expectedUpstreams
  return { name: 'probe: all 200, every upstream used', ok, detail: `statuses ${JSON.stringify(probe.statuses)}, upstreams ${JSON.stringify(probe.upstreams)}` }
}

/** The load generator saw no socket errors and only 2xx responses. */
function loadClean({ load }) {
  const ok = load.errors === 0 && load.non2xx === 0
  return { name: 'load: no errors, no non-2xx', ok, detail: `errors ${load.errors}, non-2xx ${load.non2xx}` }
}

/** Latch wrote at least one access line per measured request (the log was really on). */
function accessLogWritten({ load, accessLogLines }) {
  const ok = accessLogLines >= load.requests
  return { name: 'access log: a line per request', ok, detail: `${accessLogLines} lines for ${load.requests} measured requests (plus probe and warm-up)` }
}

/** The OTLP sink received at least one span per measured request (export was really on). */
function spansExported({ load, spansExported: spans }) {
  const ok = spans >= load.requests
  return { name: 'otlp: a span per request', ok, detail: `${spans} spans for ${load.requests} measured requests (plus probe and warm-up)` }
}

/** rr with the default access log (stdout) and a `tracing` section. */
function tracingConfig(ctx, tracing) {
  return { ...baseConfig(ctx), log: { level: 'info', access: 'stdout' }, tracing }
}

/** Latch exited 0 on SIGTERM (graceful shutdown, access log flushed). */
function cleanExit({ exit }) {
  return { name: 'latch: exit 0 on SIGTERM', ok: exit?.code === 0, detail: JSON.stringify(exit) }
}

const COMMON_CHECKS = [probeSpread, loadClean, cleanExit]

/** Responses of shaped requests never moved a virtual client to another upstream (wrk only). */
function sticky({ load }) {
  const stats = load.shapeStats
  if (stats?.broken === undefined) return { name: 'sticky: no client moved', ok: true, detail: 'not counted (autocannon)' }
  const ok = stats.broken === 0 && stats.unknown === 0 && stats.clientsSeen > 0
  return { name: 'sticky: no client moved', ok, detail: `broken ${stats.broken}, unknown ${stats.unknown}, clients ${stats.clientsSeen}, upstreams ${JSON.stringify(stats.upstreams)}` }
}

/** Every runnable scenario by name. */
export const SCENARIOS = {
  rr: {
    summary: 'round robin over 3 upstreams, access log off',
    latch: (ctx) => ({ args: ['--upstream', ctx.upstreams.join(','), '--access-log', 'off'] }),
    shape: 'plain',
    baseline: undefined,
    checks: COMMON_CHECKS,
  },
  'rr-log': {
    summary: 'rr with the default access log: stdout, which the bench sends to a file',
    latch: (ctx) => ({ args: ['--upstream', ctx.upstreams.join(',')] }),
    shape: 'plain',
    baseline: 'rr',
    accessLogIn: 'stdout',
    checks: [...COMMON_CHECKS, accessLogWritten],
  },
  'rr-trace': {
    summary: 'rr-log with tracing.enabled: W3C Trace Context (a span id and traceparent per request, trace id in the log), no export',
    latch: (ctx) => ({ config: tracingConfig(ctx, { enabled: true }) }),
    shape: 'plain',
    baseline: 'rr-log',
    accessLogIn: 'stdout',
    checks: [...COMMON_CHECKS, accessLogWritten],
  },
  'rr-otlp': {
    summary: 'rr-trace with tracing.otlp: one span per request exported over OTLP/HTTP (JSON) to a sink on the load side',
    latch: (ctx) => ({ config: tracingConfig(ctx, { otlp: { endpoint: ctx.otlpUrl() } }) }),
    shape: 'plain',
    baseline: 'rr-log',
    accessLogIn: 'stdout',
    otlpSink: true,
    checks: [...COMMON_CHECKS, accessLogWritten, spansExported],
  },
  'rr-log-file': {
    summary: 'rr with the access log written to a file (--access-log FILE)',
    latch: (ctx) => ({ args: ['--upstream', ctx.upstreams.join(','), '--access-log', ctx.accessLogFile] }),
    shape: 'plain',
    baseline: 'rr',
    checks: [...COMMON_CHECKS, accessLogWritten],
  },
  'rr-w2': {
    summary: 'rr with --workers 2 (a supervisor and two worker processes), Latch allowed on both CPUs',
    latch: (ctx) => ({ args: ['--upstream', ctx.upstreams.join(','), '--access-log', 'off', '--workers', '2'] }),
    shape: 'plain',
    baseline: 'rr',
    // Two workers pinned to one CPU could not use a second core: Latch gets both (the one of the load
    // generator and upstreams included, so this measures the whole machine shared, as it is).
    proxyCpus: 'all',
    checks: COMMON_CHECKS,
  },
  cookie: {
    summary: 'cookie affinity (--affinity cookie), 1000 virtual clients with cookie jars',
    latch: (ctx) => ({ args: ['--upstream', ctx.upstreams.join(','), '--access-log', 'off', '--affinity', 'cookie'] }),
    shape: 'cookie',
    baseline: 'rr',
    checks: [...COMMON_CHECKS, sticky],
  },
  'split-cookie': {
    summary: 'a 90/10 HTTPRoute split (main: u1,u2; canary: u3) with rule-level sessionPersistence (Cookie), 1000 cookie-jar clients',
    latch: (ctx) => ({ config: splitConfig(ctx, { sessionPersistence: { type: 'Cookie', sessionName: 'latch-route-session' } }, undefined) }),
    shape: 'cookie',
    baseline: 'cookie',
    checks: [...COMMON_CHECKS, sticky],
  },
  'split-pool-cookie': {
    summary: 'the 90/10 split with the pools\' own cookie affinity instead (as quick mode --canary -a cookie, Ingress canaries)',
    latch: (ctx) => ({ config: splitConfig(ctx, {}, { mode: 'cookie', responseHeader: true }) }),
    shape: 'cookie',
    baseline: 'cookie',
    checks: [...COMMON_CHECKS, sticky],
  },
  'client-ip': {
    summary: 'client-ip affinity (X-Forwarded-For from a trusted loopback peer) over 3 upstreams, memory store',
    latch: (ctx) => ({ config: clientIpConfig(ctx, { type: 'memory' }) }),
    shape: 'xff',
    baseline: 'rr',
    checks: [...COMMON_CHECKS, sticky],
  },
  'client-ip-redis': {
    summary: 'client-ip with the Redis store (a redis-server started by the bench, pinned with the upstreams)',
    latch: (ctx) => ({ config: clientIpConfig(ctx, { type: 'redis', url: ctx.redisUrl() }) }),
    shape: 'xff',
    baseline: 'client-ip',
    redis: true,
    checks: [...COMMON_CHECKS, sticky],
  },
  'route-prefix': {
    summary: 'one Ingress Prefix / route to one pool (rr over 3 upstreams); the routed request',
    latch: (ctx) => ({ config: { ...baseConfig(ctx), admin: { listen: false }, routes: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'default' } } }] } }] } } }),
    shape: 'routed',
    baseline: undefined,
    checks: COMMON_CHECKS,
  },
  'route-httproute-500': {
    summary: '50 HTTPRoutes × 10 rules, each with a PathPrefix, a header and a query match; the request matches the last rule',
    latch: (ctx) => ({ config: { ...baseConfig(ctx), admin: { listen: false }, routes: httpRouteTable(50, 10) } }),
    shape: 'routed',
    baseline: 'route-prefix',
    checks: COMMON_CHECKS,
  },
  'proxy-protocol': {
    summary: 'rr on a listener with proxyProtocol v1 (every connection opens with a PROXY TCP4 line of its own client address)',
    latch: (ctx) => ({ config: { ...baseConfig(ctx), listen: [{ address: '127.0.0.1:0', proxyProtocol: 'v1', proxyProtocolFrom: ['127.0.0.1/32'] }] } }),
    shape: 'plain',
    preamble: 'proxy-v1',
    baseline: 'rr',
    checks: COMMON_CHECKS,
  },
}

/**
 * `routes` × `rules` HTTPRoutes on one host-less table: rule j of route i matches PathPrefix
 * /svc-i/vj, header `x-tenant: tj` and query `tier=gold` (the routed shape's request is route 49, rule 9).
 */
function httpRouteTable(routes, rules) {
  return Array.from({ length: routes }, (_, i) => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: `svc-${i}` },
    spec: {
      rules: Array.from({ length: rules }, (_, j) => ({
        matches: [{ path: { type: 'PathPrefix', value: `/svc-${i}/v${j}` }, headers: [{ name: 'x-tenant', value: `t${j}` }], queryParams: [{ name: 'tier', value: 'gold' }] }],
        backendRefs: [{ name: 'default', port: 80 }],
      })),
    },
  }))
}

/** client-ip affinity behind a trusted loopback proxy, with the given store. */
function clientIpConfig(ctx, store) {
  const base = baseConfig(ctx)
  return { ...base, store, shutdown: { drainDelay: '0s' }, trustedProxies: ['127.0.0.1/32'], pools: [{ ...base.pools[0], affinity: { mode: 'client-ip' } }] }
}

/** Pools main (u1, u2) and canary (u3) behind one inline HTTPRoute rule at 90/10; `rule` adds rule fields, `affinity` each pool's affinity. */
function splitConfig(ctx, rule, affinity) {
  const base = baseConfig(ctx)
  const pool = (name, endpoints) => ({ name, endpoints, ...(affinity === undefined ? {} : { affinity }) })
  return {
    ...base,
    pools: [pool('main', ctx.upstreams.slice(0, -1)), pool('canary', ctx.upstreams.slice(-1))],
    routes: [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'bench', namespace: 'default' },
      spec: { rules: [{ backendRefs: [{ name: 'main', weight: 90 }, { name: 'canary', weight: 10 }], ...rule }] },
    }],
  }
}

/** The CPU list Latch is pinned to in a scenario: its own CPU, or with `proxyCpus: 'all'` both in use. */
export function latchCpus(scenario, env) {
  if (env.proxyCpuPin === undefined) return undefined
  return scenario.proxyCpus === 'all' ? `${env.proxyCpuPin},${env.loadgenCpuPin}` : env.proxyCpuPin
}

/** Checks the table's internal references once at start-up (a typo in an entry fails fast). */
export function validateScenarioTable() {
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    if (SHAPES[scenario.shape] === undefined) throw new Error(`scenario ${name}: unknown shape "${scenario.shape}"`)
    if (scenario.baseline !== undefined && SCENARIOS[scenario.baseline] === undefined) throw new Error(`scenario ${name}: unknown baseline "${scenario.baseline}"`)
  }
}
