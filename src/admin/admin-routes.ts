/**
 * @module The admin API's route table and handlers: health, readiness, pools, metrics, endpoint actions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { formatIssue } from '../errors/config-error.js'
import type { ReloadOutcome } from '../lifecycle/config-reloader.js'
import type { Logger } from '../observability/logger.js'
import type { AdminState } from '../upstream/endpoint.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import { AdminError, sendJson } from './admin-error.js'
import { endpointSnapshot, poolSnapshot } from './pool-snapshot.js'
import type { Readiness } from './readiness.js'

/** What `/metrics` serves (the proxy's metrics registry). */
export interface MetricsSource {
  readonly contentType: string
  scrape(): Promise<string>
}

/** Everything the admin handlers read and act on. */
export interface AdminContext {
  /** The current pools by name (read per call, so a reload is seen at once). */
  readonly pools: () => ReadonlyMap<string, UpstreamPool>
  readonly readiness: Readiness
  readonly metrics: MetricsSource
  /** Bearer token that mutating calls must carry; undefined = none required. */
  readonly token: string | undefined
  readonly logger: Logger
  /** Reloads the config (`POST /reload`); undefined when reloading is not wired (tests). */
  readonly reload?: () => Promise<ReloadOutcome>
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

/** Operator actions on an endpoint, and the admin state each sets. */
export const ENDPOINT_ACTIONS: Readonly<Record<string, AdminState>> = { drain: 'draining', undrain: 'active', maintenance: 'maintenance' }

const READ = ['GET', 'HEAD'] as const

/** The admin API. Path parameters are the capture groups, percent-decoded. */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { pattern: /^\/healthz$/, methods: READ, mutating: false, handle: (_context, { res }) => sendJson(res, 200, { status: 'ok' }) },
  { pattern: /^\/readyz$/, methods: READ, mutating: false, handle: readyz },
  { pattern: /^\/pools$/, methods: READ, mutating: false, handle: (context, { res }) => sendJson(res, 200, { pools: [...context.pools().values()].map(poolSnapshot) }) },
  { pattern: /^\/metrics$/, methods: READ, mutating: false, handle: metrics },
  { pattern: /^\/pools\/([^/]+)\/endpoints\/([^/]+)\/([^/]+)$/, methods: ['POST'], mutating: true, handle: endpointAction },
  { pattern: /^\/reload$/, methods: ['POST'], mutating: true, handle: reload },
]

/** The route list, for "no such route" messages. */
export const ROUTE_SUMMARY = 'GET /healthz, GET /readyz, GET /pools, GET /metrics, POST /pools/{pool}/endpoints/{host:port}/{drain|undrain|maintenance}, POST /reload'

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

function endpointAction(context: AdminContext, { req, res, params }: AdminCall): void {
  const [poolName, endpointId, action] = params as [string, string, string]
  const state = Object.hasOwn(ENDPOINT_ACTIONS, action) ? ENDPOINT_ACTIONS[action] : undefined
  if (state === undefined) {
    throw new AdminError('ERR_ADMIN_BAD_ACTION', `unknown action "${action}" — expected ${Object.keys(ENDPOINT_ACTIONS).join(', ')}`)
  }
  const pools = context.pools()
  const pool = pools.get(poolName)
  if (pool === undefined) throw new AdminError('ERR_ADMIN_UNKNOWN_POOL', `no pool named "${poolName}" — pools: ${list(pools.keys())}`)
  const endpoint = pool.endpoint(endpointId)
  if (endpoint === undefined) {
    throw new AdminError('ERR_ADMIN_UNKNOWN_ENDPOINT', `pool "${poolName}" has no endpoint "${endpointId}" — endpoints are named host:port: ${list(pool.endpoints.map((known) => known.id))}`)
  }
  const from = endpoint.adminState
  endpoint.setAdminState(state)
  context.logger.info({ pool: pool.name, endpoint: endpoint.id, action, from, to: state, peer: req.socket.remoteAddress }, 'admin action')
  sendJson(res, 200, { pool: pool.name, action, endpoint: endpointSnapshot(endpoint) })
}

/** Names for a message, at most 20 of them. */
function list(names: Iterable<string>): string {
  const all = [...names]
  if (all.length === 0) return '(none)'
  return all.length > 20 ? `${all.slice(0, 20).join(', ')}, … (${all.length} in all)` : all.join(', ')
}
