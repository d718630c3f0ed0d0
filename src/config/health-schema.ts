/**
 * @module Config schema for endpoint health: active checks, passive outlier detection, DNS discovery.
 *
 * Defaults follow HAProxy for active checks (inter 2s, timeout 1s, fall 3, rise 2) and Envoy's
 * outlier detection for passive health (5 consecutive failures, 30 s base ejection growing per
 * ejection, capped), with a 50 % panic threshold. Stall detection (an endpoint answering nothing for 2 s
 * while requests wait) has no direct counterpart there: see health/stall-detector.ts.
 */
import { z } from 'zod'
import { checkResolverAddress } from '../discovery/resolver-address.js'
import { count, duration, ratio } from './schema-types.js'

const STATUS_RANGE = /^[1-5]\d\d(-[1-5]\d\d)?$/

const PASSIVE_FAILURES = ['connect', 'timeout', 'reset', '5xx'] as const
export type PassiveFailureKind = (typeof PASSIVE_FAILURES)[number]

/** What an active probe speaks: HTTP, or the gRPC Health Checking Protocol. */
export const HEALTH_CHECK_TYPES = ['http', 'grpc'] as const

/** Active health checks for every endpoint of a pool. */
export const ActiveHealthCheck = z.strictObject({
  type: z.enum(HEALTH_CHECK_TYPES, { error: `expected one of ${HEALTH_CHECK_TYPES.join(', ')}` }).default('http').meta({ description: '`http`: a request to `path`, judged by status (and body). `grpc`: the gRPC Health Checking Protocol, `grpc.health.v1.Health/Check` for `grpcService`, over HTTP/2 (h2c for `http://` endpoints, TLS for `https://`); healthy only when it answers `SERVING`.' }),
  path: z.string({ error: 'expected a path such as /healthz' }).startsWith('/', { error: 'expected a path starting with "/", such as /healthz' }).optional().meta({ description: 'Path probed on each endpoint (required for `type: http`).' }),
  grpcService: z.string({ error: 'expected a service name such as my.package.MyService, or "" for the whole server' }).default('').meta({ description: '`type: grpc`: the service asked about (`HealthCheckRequest.service`); `""` (default) asks about the server as a whole.' }),
  method: z.enum(['GET', 'HEAD', 'POST', 'OPTIONS'], { error: 'expected GET, HEAD, POST or OPTIONS' }).default('GET').meta({ description: 'Probe method.' }),
  port: z.int().min(1).max(65535).optional().meta({ description: 'Probe this port instead of the endpoint\'s own.' }),
  host: z.string().min(1).optional().meta({ description: 'Host header of probes (default: the endpoint\'s host:port).' }),
  interval: duration().prefault('2s').meta({ description: 'Time between probes of one endpoint.' }),
  jitter: ratio().default(0.1).meta({ description: 'Random share of the interval added or removed per probe, so probes of many endpoints spread out.' }),
  timeout: duration().prefault('1s').meta({ description: 'A probe without a complete answer in this time fails.' }),
  expectedStatuses: z
    .array(z.string({ error: 'expected a status or range such as "200" or "200-399"' }).regex(STATUS_RANGE, { error: 'expected a status or range such as "200" or "200-399"' }), { error: 'expected a list of statuses or ranges' })
    .default(['200-399'])
    .meta({ description: 'Statuses that count as healthy, e.g. `["200-399"]` or `["200", "204"]`.' }),
  bodyMatch: z.string().optional().meta({ description: 'A probe is healthy only if its body contains this text (first 64 KiB).' }),
  healthyThreshold: count(1, 100).default(2).meta({ description: 'Consecutive passing probes that mark an unhealthy endpoint healthy (HAProxy `rise`).' }),
  unhealthyThreshold: count(1, 100).default(3).meta({ description: 'Consecutive failing probes that mark a healthy endpoint unhealthy (HAProxy `fall`).' }),
}).superRefine((check, ctx) => {
  if (check.type === 'http' && check.path === undefined) ctx.addIssue({ code: 'custom', path: ['path'], message: 'missing — an http health check needs a path such as /healthz (or set type: grpc)' })
})

/** Passive health: eject endpoints that keep failing real traffic. */
export const PassiveHealth = z.strictObject({
  enabled: z.boolean().default(true).meta({ description: 'Eject endpoints after consecutive failures of real requests.' }),
  consecutiveFailures: count(1, 1000).default(5).meta({ description: 'Consecutive failed requests that eject an endpoint.' }),
  failures: z.array(z.enum(PASSIVE_FAILURES, { error: `expected one of ${PASSIVE_FAILURES.join(', ')}` })).default([...PASSIVE_FAILURES]).meta({ description: 'What counts as a failure: `connect` (refused/unreachable), `timeout`, `reset` (connection closed mid-request), `5xx` (a 5xx response). A client aborting never counts.' }),
  baseEjectionTime: duration().prefault('30s').meta({ description: 'First ejection lasts this long; each further ejection of the same endpoint lasts one more multiple.' }),
  maxEjectionTime: duration().prefault('300s').meta({ description: 'Cap on one ejection.' }),
  maxEjectedPercent: z.int().min(0).max(100).default(50).meta({ description: 'Never eject more than this share of a pool at once.' }),
  stallTimeout: duration().prefault('2s').meta({ description: 'An endpoint that has answered nothing (no response head) for this long while requests it was sent wait for one is `stalled`: new requests go to other endpoints; those already sent keep their own timeouts. It is back as soon as it answers anything, or once nothing waits on it any more. Counts toward `maxEjectedPercent`; `0` disables it. Raise it above the longest time a healthy endpoint takes to start answering (long polls).' }),
  panicThreshold: z.int().min(0).max(100).default(50).meta({ description: 'When fewer than this share of a pool\'s endpoints are healthy, route to all of them (except maintenance) rather than fail everything; logged and counted (Envoy\'s panic mode).' }),
})

/** DNS discovery of endpoints. */
export const Discovery = z.strictObject({
  dns: z.string({ error: 'expected a DNS name such as web.default.svc.cluster.local' }).min(1).meta({ description: 'Name to resolve (A and AAAA records; with `srv: true`, SRV records giving ports).' }),
  port: z.int().min(1).max(65535).optional().meta({ description: 'Port of discovered endpoints (required unless `srv` is set).' }),
  scheme: z.enum(['http', 'https']).default('http').meta({ description: 'Scheme of discovered endpoints.' }),
  srv: z.boolean().default(false).meta({ description: 'Resolve SRV records (ports from the records).' }),
  interval: duration().prefault('5s').meta({ description: 'Time between resolutions.' }),
  resolver: z
    .string({ error: 'expected a DNS server address such as 127.0.0.1:5353' })
    .superRefine((value, ctx) => {
      const problem = checkResolverAddress(value)
      if (problem !== undefined) ctx.addIssue({ code: 'custom', input: value, message: problem })
    })
    .optional()
    .meta({ description: 'DNS server to ask instead of the system resolvers: `ip`, `ip:port` or `[ipv6]:port`.' }),
  emptyAfter: count(1, 100).default(3).meta({ description: 'Consecutive answers saying the name has no records (NXDOMAIN or NODATA) before the discovered endpoints are removed; until then the last known set is kept. A Kubernetes headless Service with no ready Pods answers NXDOMAIN, but so does a DNS server that is briefly out of sync. DNS failures (timeouts, SERVFAIL, refused) never remove endpoints.' }),
  weight: count(1, 1000).default(1).meta({ description: 'Weight of each discovered endpoint.' }),
}).refine((discovery) => discovery.srv || discovery.port !== undefined, { path: ['port'], error: 'missing — discovered A/AAAA records need a port (or set srv: true to read ports from SRV records)' })
