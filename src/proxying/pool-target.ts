/**
 * @module What a route resolves to: a pool and the session layer (affinity) above it.
 *
 * The composition root (runtime.ts) builds one target per pool: affinity is created here, from the
 * pool's read view, rather than inside the pool, so sessions sit above pools (the pool imports
 * neither affinity nor stores) and a later route rule can put one session over several pools.
 */
import { createAffinity, type AffinityDeps } from '../affinity/create-affinity.js'
import type { SessionAffinity } from '../affinity/session-affinity.js'
import { poolCookieMaxAge } from '../config/pool-session-persistence.js'
import { LeastSessions } from '../balancing/least-sessions.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'

const NO_SESSIONS: ReadonlyMap<string, number> = new Map()

export interface PoolTarget {
  readonly pool: UpstreamPool
  /** Sticky sessions of this pool, when its affinity mode is not `none`. */
  readonly affinity: SessionAffinity | undefined
}

/** Builds `pool`'s affinity and wires the live-session counts the pool's readers use (admin, metrics, least-sessions). */
export function poolTarget(pool: UpstreamPool, deps: AffinityDeps): PoolTarget {
  const affinity = createAffinity(pool, pool.config.affinity, deps, poolCookieMaxAge(pool.config.sessionPersistence))
  if (affinity !== undefined) pool.sessionCounts = () => affinity.sessionCounts()
  if (pool.policy instanceof LeastSessions) {
    pool.policy.counts = affinity === undefined ? () => NO_SESSIONS : () => affinity.sessionCounts()
    // What differs between stores is their contract: live in-process counts, or counts that lag.
    pool.policy.countsLagMs = deps.store.liveCountsLagMs
  }
  return { pool, affinity }
}
