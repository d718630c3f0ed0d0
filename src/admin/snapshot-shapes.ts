/**
 * @module The JSON shapes of pools and endpoints that `GET /pools` returns and the embedding API's
 * `pools()` gives (built in pool-snapshot.ts). A leaf module, so the public types stay small.
 */
import type { LatencyReading } from '../observability/endpoint-latency.js'
import type { AdminState, CheckState, EndpointSource, EndpointState } from '../upstream/endpoint-states.js'

/** One endpoint as the admin API shows it; times are ISO 8601 strings, or null when unset. */
export interface EndpointSnapshot {
  readonly id: string
  readonly url: string
  readonly source: EndpointSource
  readonly state: EndpointState
  readonly adminState: AdminState
  readonly checkState: CheckState
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
  /** p50/p99 of the requests it served (their last attempt) over the last minute (observability/endpoint-latency.ts). */
  readonly latency: LatencyReading
}

/** One pool as the admin API shows it. */
export interface PoolSnapshot {
  readonly name: string
  readonly panic: boolean
  readonly retries: number
  readonly queue: { readonly length: number; readonly rejectedFull: number; readonly timedOut: number }
  readonly endpoints: readonly EndpointSnapshot[]
}
