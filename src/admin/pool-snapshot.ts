/**
 * @module The JSON view of pools and endpoints that `GET /pools` returns, read from live counters.
 */
import type { Endpoint } from '../upstream/endpoint.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'

/** One endpoint as the admin API shows it; times are ISO 8601 strings, or null when unset. */
export interface EndpointSnapshot {
  readonly id: string
  readonly url: string
  readonly source: Endpoint['source']
  readonly state: Endpoint['state']
  readonly adminState: Endpoint['adminState']
  readonly checkState: Endpoint['checkState']
  readonly available: boolean
  readonly weight: number
  readonly inflight: number
  readonly total: number
  readonly failures: number
  readonly errors: Readonly<Record<string, number>>
  readonly ejections: number
  readonly ejectedUntil: string | null
  /** Times passive health found it stalled (state `stalled` while it lasts). */
  readonly stalls: number
  readonly removalDeadline: string | null
  readonly lastCheck: { readonly ok: boolean; readonly at: string; readonly status: number | null; readonly error: string | null; readonly durationMs: number } | null
  readonly upgraded: number
  /** Live sessions bound to this endpoint (0 without affinity); a draining Pod's preStop waits for 0. */
  readonly sessions: number
}

/** One pool as the admin API shows it. */
export interface PoolSnapshot {
  readonly name: string
  readonly panic: boolean
  readonly retries: number
  readonly queue: { readonly length: number; readonly rejectedFull: number; readonly timedOut: number }
  readonly endpoints: readonly EndpointSnapshot[]
}

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
  }
}

function isoOrNull(ms: number): string | null {
  return ms === 0 ? null : new Date(ms).toISOString()
}
