/**
 * @module The admin API's route table and handlers: health, readiness, pools, metrics, endpoint actions.
 */
import type { RuleReport } from '../proxying/rule-target.js'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { formatIssue } from '../errors/config-error.js'
import type { ReloadOutcome } from '../lifecycle/reload-candidate.js'
import type { Logger } from '../observability/logger.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import { AdminError, sendJson } from './admin-error.js'
import { applyEndpointAction, snapshotPools, type EndpointActionRequest, type EndpointActionResult } from './endpoint-actions.js'
import type { PoolSnapshot } from './pool-snapshot.js'
import type { ReadinessReport } from './readiness.js'
import { DASHBOARD_PATHS, serveDashboardFile } from './dashboard-assets.js'
import type { Overview } from './overview.js'
import type { RouteRow } from './route-listing.js'
import type { HistoryView } from '../observability/pool-history.js'
import type { CountersByPool } from '../observability/pool-counters.js'

/** What `/metrics` serves (the proxy's metrics registry, or the workers' aggregated). */
export interface MetricsSource {
  readonly contentType: string
  scrape(): Promise<string>
}

/** What `/readyz` reports. */
export interface ReadinessSource {
  report(): Promise<ReadinessReport>
}

/**
 * Everything the admin handlers read and act on. A single process reads its own pools
 * (`localPoolAdmin`); a supervisor asks every worker and merges their answers.
 */
export interface AdminContext {
  /** Snapshots of the current pools (read per call, so a reload is seen at once). */
  readonly pools: () => PoolSnapshot[] | Promise<PoolSnapshot[]>
  /**
   * Route rules with several backends or rule sessions, per backend: weight, requests, live sessions
   * (`GET /pools` lists them under `rules`; the workers' supervisor merges its workers'); undefined where not wired.
   */
  readonly rules?: (() => readonly RuleReport[] | Promise<readonly RuleReport[]>) | undefined
  /** Applies an operator action; throws (or rejects with) AdminError. */
  readonly endpointAction: (request: EndpointActionRequest) => EndpointActionResult | Promise<EndpointActionResult>
  readonly readiness: ReadinessSource
  readonly metrics: MetricsSource
  /** Bearer token that mutating calls must carry; undefined = none required. */
  readonly token: string | undefined
  /** Host values accepted besides the listener's own address and localhost (`admin.allowedHosts`). */
  readonly allowedHosts?: readonly string[] | undefined
  readonly logger: Logger
  /** Reloads the config (`POST /reload`); undefined when reloading is not wired (tests). */
  readonly reload?: () => Promise<ReloadOutcome>
  /** `GET /overview`; undefined when not wired (tests). */
  readonly overview?: (() => Overview | Promise<Overview>) | undefined
  /** `GET /routes`: the routing table serving now. */
  readonly routes?: (() => RouteRow[]) | undefined
  /** Cumulative per-pool counters, sampled into `GET /history` while the admin listener runs. */
  readonly counters?: (() => Promise<CountersByPool>) | undefined
  /** `GET /history` (set by startAdmin from `counters`). */
  readonly history?: (() => HistoryView) | undefined
}

/** The pool parts of an AdminContext for this process's own pools. */
export function localPoolAdmin(pools: () => ReadonlyMap<string, UpstreamPool>): Pick<AdminContext, 'pools' | 'endpointAction'> {
  return { pools: () => snapshotPools(pools()), endpointAction: (request) => applyEndpointAction(pools(), request) }
}

/** One admin call: its request, its response, and the decoded path parameters. */
export interface AdminCall {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly params: readonly string[]
}

/** One entry of the route table. */
export interface AdminRoute {
  readonly pattern: RegExp
  readonly methods: readonly string[]
  /** Mutating routes require the bearer token when one is configured. */
  readonly mutating: boolean
  readonly handle: (context: AdminContext, call: AdminCall) => void | Promise<void>
}

const READ = ['GET', 'HEAD'] as const

/** The admin API. Path parameters are the capture groups, percent-decoded. */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { pattern: /^\/healthz$/, methods: READ, mutating: false, handle: (_context, { res }) => sendJson(res, 200, { status: 'ok' }) },
  { pattern: /^\/readyz$/, methods: READ, mutating: false, handle: readyz },
  { pattern: /^\/pools$/, methods: READ, mutating: false, handle: async (context, { res }) => sendJson(res, 200, { pools: await context.pools(), ...(context.rules === undefined ? {} : { rules: await context.rules() }) }) },
  { pattern: /^\/metrics$/, methods: READ, mutating: false, handle: metrics },
  { pattern: /^\/overview$/, methods: READ, mutating: false, handle: async (context, { res }) => sendJson(res, 200, await available(context.overview, 'overview')()) },
  { pattern: /^\/routes$/, methods: READ, mutating: false, handle: (context, { res }) => sendJson(res, 200, { routes: available(context.routes, 'routes')() }) },
  { pattern: /^\/history$/, methods: READ, mutating: false, handle: (context, { res }) => sendJson(res, 200, available(context.history, 'history')()) },
  { pattern: DASHBOARD_PATHS, methods: READ, mutating: false, handle: (_context, { req, res }) => serveDashboardFile(new URL(req.url ?? '/', 'http://admin').pathname, req, res) },
  { pattern: /^\/pools\/([^/]+)\/endpoints\/([^/]+)\/([^/]+)$/, methods: ['POST'], mutating: true, handle: endpointAction },
  { pattern: /^\/reload$/, methods: ['POST'], mutating: true, handle: reload },
]

/** The route list, for "no such route" messages. */
export const ROUTE_SUMMARY = 'GET / (dashboard), GET /overview, GET /routes, GET /history, GET /healthz, GET /readyz, GET /pools, GET /metrics, POST /pools/{pool}/endpoints/{host:port}/{drain|undrain|maintenance}, POST /reload'

/** A view the caller wired, or "not available here". */
function available<T>(view: T | undefined, name: string): T {
  if (view === undefined) throw new AdminError('ERR_ADMIN_NOT_FOUND', `${name} is not available here`)
  return view
}

/** `POST /reload`: 200 with the changes, 422 with every config problem, 409 in quick mode. */
async function reload(context: AdminContext, { res }: AdminCall): Promise<void> {
  if (context.reload === undefined) throw new AdminError('ERR_ADMIN_NOT_FOUND', 'reloading is not available here')
  const outcome = await context.reload()
  if (outcome.ok) return sendJson(res, 200, { reloaded: true, changes: outcome.changes })
  const status = outcome.code === 'NO_CONFIG_FILE' ? 409 : 422
  sendJson(res, status, { reloaded: false, error: outcome.code, message: outcome.message, issues: outcome.issues.map(formatIssue) })
}

async function readyz(context: AdminContext, { res }: AdminCall): Promise<void> {
  const report = await context.readiness.report()
  sendJson(res, report.ready ? 200 : 503, report)
}

async function metrics(context: AdminContext, { res }: AdminCall): Promise<void> {
  const text = await context.metrics.scrape()
  res.writeHead(200, { 'content-type': context.metrics.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
  res.end(text)
}

async function endpointAction(context: AdminContext, { req, res, params }: AdminCall): Promise<void> {
  const [pool, endpoint, action] = params as [string, string, string]
  const result = await context.endpointAction({ pool, endpoint, action })
  context.logger.info({ pool: result.pool, endpoint: result.endpoint.id, action, from: result.from, to: result.to, peer: req.socket.remoteAddress }, 'admin action')
  sendJson(res, 200, { pool: result.pool, action, endpoint: result.endpoint })
}
