/**
 * @module The JSON view of pools and endpoints that `GET /pools` returns, read from live counters.
 */
import type { Endpoint } from '../upstream/endpoint.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import type { EndpointSnapshot, PoolSnapshot } from './snapshot-shapes.js'

export type { EndpointSnapshot, PoolSnapshot }

/** Snapshots a pool and all its endpoints (draining ones included). */
export function poolSnapshot(pool: UpstreamPool): PoolSnapshot {
  const { queue } = pool
  return {
    name: pool.name,
    panic: pool.panic,
    retries: pool.retries,
    queue: { length: queue.length, rejectedFull: queue.rejectedFull, timedOut: queue.timedOut },
    endpoints: pool.endpoints.map((endpoint) => endpointSnapshot(endpoint, pool)),
  }
}

/** Snapshots one endpoint of `pool` (whose affinity knows its live sessions). */
export function endpointSnapshot(endpoint: Endpoint, pool: UpstreamPool): EndpointSnapshot {
  const probe = endpoint.lastProbe
  return {
    id: endpoint.id,
    url: endpoint.url.origin,
    source: endpoint.source,
    state: endpoint.state,
    adminState: endpoint.adminState,
    checkState: endpoint.checkState,
    available: endpoint.available,
    weight: endpoint.weight,
    inflight: endpoint.inflight,
    total: endpoint.total,
    failures: endpoint.failuresTotal,
    errors: { ...endpoint.errors },
    ejections: endpoint.ejections,
    ejectedUntil: isoOrNull(endpoint.ejectedUntil),
    stalls: endpoint.stalls,
    removalDeadline: isoOrNull(endpoint.removalDeadline),
    lastCheck: probe === undefined ? null : { ok: probe.ok, at: new Date(probe.at).toISOString(), status: probe.status ?? null, error: probe.error ?? null, durationMs: probe.durationMs },
    upgraded: endpoint.upgraded,
    sessions: pool.sessionCounts?.().get(endpoint.id) ?? 0,
    latency: endpoint.latency.reading(),
  }
}

function isoOrNull(ms: number): string | null {
  return ms === 0 ? null : new Date(ms).toISOString()
}
