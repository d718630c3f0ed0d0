/**
 * @module Operator actions on endpoints (drain, undrain, maintenance) and pool snapshots, applied to
 * this process's pools. The admin API calls them directly, or in every worker through the supervisor.
 */
import type { AdminState } from '../upstream/endpoint.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import { AdminError } from './admin-error.js'
import { endpointSnapshot, poolSnapshot, type EndpointSnapshot, type PoolSnapshot } from './pool-snapshot.js'

/** Operator actions on an endpoint, and the admin state each sets. */
export const ENDPOINT_ACTIONS: Readonly<Record<string, AdminState>> = { drain: 'draining', undrain: 'active', maintenance: 'maintenance' }

/** `POST /pools/{pool}/endpoints/{endpoint}/{action}`, decoded. */
export interface EndpointActionRequest {
  readonly pool: string
  readonly endpoint: string
  readonly action: string
}

/** What an applied action reports. */
export interface EndpointActionResult {
  readonly pool: string
  readonly action: string
  /** The admin state before the action. */
  readonly from: AdminState
  readonly to: AdminState
  readonly endpoint: EndpointSnapshot
}

/** Applies an action to one of `pools`; throws AdminError (unknown action, pool or endpoint). */
export function applyEndpointAction(pools: ReadonlyMap<string, UpstreamPool>, request: EndpointActionRequest): EndpointActionResult {
  const { action } = request
  const to = Object.hasOwn(ENDPOINT_ACTIONS, action) ? ENDPOINT_ACTIONS[action] : undefined
  if (to === undefined) {
    throw new AdminError('ERR_ADMIN_BAD_ACTION', `unknown action "${action}" — expected ${Object.keys(ENDPOINT_ACTIONS).join(', ')}`)
  }
  const pool = pools.get(request.pool)
  if (pool === undefined) throw new AdminError('ERR_ADMIN_UNKNOWN_POOL', `no pool named "${request.pool}" — pools: ${list(pools.keys())}`)
  const endpoint = pool.endpoint(request.endpoint)
  if (endpoint === undefined) {
    throw new AdminError('ERR_ADMIN_UNKNOWN_ENDPOINT', `pool "${pool.name}" has no endpoint "${request.endpoint}" — endpoints are named host:port: ${list(pool.endpoints.map((known) => known.id))}`)
  }
  const from = endpoint.adminState
  endpoint.setAdminState(to)
  return { pool: pool.name, action, from, to, endpoint: endpointSnapshot(endpoint, pool) }
}

/** Snapshots of every pool. */
export function snapshotPools(pools: ReadonlyMap<string, UpstreamPool>): PoolSnapshot[] {
  return [...pools.values()].map(poolSnapshot)
}

/** Names for a message, at most 20 of them. */
function list(names: Iterable<string>): string {
  const all = [...names]
  if (all.length === 0) return '(none)'
  return all.length > 20 ? `${all.slice(0, 20).join(', ')}, … (${all.length} in all)` : all.join(', ')
}
