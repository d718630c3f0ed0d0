/**
 * @module The operations the supervisor and its workers ask of each other (see rpc.ts).
 */
import type { EndpointActionRequest, EndpointActionResult } from '../admin/endpoint-actions.js'
import type { PoolSnapshot } from '../admin/pool-snapshot.js'
import type { ReadinessReport } from '../admin/readiness.js'
import type { ReloadOutcome, ReloadTrigger } from '../lifecycle/reload-candidate.js'
import type { ListenAddress } from '../net/address.js'
import type { Binding } from '../stores/affinity-store.js'
import type { MetricObjectWithValues, MetricValue } from 'prom-client'

/** What a starting worker gets from the supervisor. */
export interface WorkerInit {
  /** The config file's text as the supervisor last validated and applied it; undefined in quick mode. */
  readonly configText: string | undefined
  /** The affinity signing secret the supervisor generated, shared by every worker (used when none is configured). */
  readonly generatedSecret: string
  /** Operator actions (drain, maintenance…) applied since start, replayed by a restarted worker. */
  readonly actions: readonly EndpointActionRequest[]
}

/** One live-session touch: scope, session id, endpoint id, ttl in ms. */
export type Touch = readonly [scope: string, sessionId: string, endpointId: string, ttlMs: number]

/** Operations served by the supervisor. */
export type SupervisorOps = {
  hello: { args: null; result: WorkerInit }
  /** Note: the worker serves its listeners. */
  ready: { args: { readonly addresses: readonly ListenAddress[] }; result: null }
  'store.get': { args: { readonly key: string }; result: Binding | null }
  'store.claim': { args: { readonly key: string; readonly endpointId: string; readonly ttlMs: number }; result: Binding }
  'store.rebind': { args: { readonly key: string; readonly endpointId: string; readonly ttlMs: number; readonly expectedOld: string }; result: Binding }
  'store.counts': { args: { readonly scope: string }; result: readonly (readonly [string, number])[] }
  /** Note: extend bindings. */
  'store.refresh': { args: readonly (readonly [key: string, ttlMs: number])[]; result: null }
  /** Note: live-session touches, batched. */
  'store.touch': { args: readonly Touch[]; result: null }
}

/** Operations served by a worker. */
export type WorkerOps = {
  reload: { args: { readonly trigger: ReloadTrigger; readonly text: string | undefined }; result: ReloadOutcome }
  pools: { args: null; result: PoolSnapshot[] }
  action: { args: EndpointActionRequest; result: EndpointActionResult }
  readiness: { args: null; result: ReadinessReport }
  /** The worker's registry as prom-client's `getMetricsAsJSON()` (aggregated by the supervisor). */
  metrics: { args: null; result: MetricObjectWithValues<MetricValue<string>>[] }
  /** Note: drain and exit (`now`: exit at once, the second signal). */
  shutdown: { args: { readonly now: boolean }; result: null }
  /** Note: these bindings moved (a rebind elsewhere); drop them from the local cache. */
  'store.invalidate': { args: readonly string[]; result: null }
}

/** The environment variable carrying a worker's slot number (1…N; stable across restarts of that slot). */
export const WORKER_SLOT_ENV = 'LATCH_WORKER_SLOT'
