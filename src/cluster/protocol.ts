/**
 * @module The operations the supervisor and its workers ask of each other (see rpc.ts).
 */
import type { EndpointActionRequest, EndpointActionResult } from '../admin/endpoint-actions.js'
import type { StoreStatus } from '../admin/overview.js'
import type { PoolSnapshot } from '../admin/pool-snapshot.js'
import type { CountersByPool } from '../observability/pool-counters.js'
import type { ReadinessReport } from '../admin/readiness.js'
import type { ReloadOutcome, ReloadTrigger } from '../lifecycle/reload-candidate.js'
import type { ListenAddress } from '../net/address.js'
import type { RuleReport } from '../proxying/rule-target.js'
import type { StoreOps, StoreWorkerOps } from '../stores/ipc-store-protocol.js'
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

/** Operations served by the supervisor (the store's are defined by the store, stores/ipc-store-protocol.ts). */
export type SupervisorOps = StoreOps & {
  hello: { args: null; result: WorkerInit }
  /** Note: the worker serves its listeners. */
  ready: { args: { readonly addresses: readonly ListenAddress[] }; result: null }
}

/** Operations served by a worker. */
export type WorkerOps = StoreWorkerOps & {
  reload: { args: { readonly trigger: ReloadTrigger; readonly text: string | undefined }; result: ReloadOutcome }
  pools: { args: null; result: PoolSnapshot[] }
  /** Route rules with several backends or rule sessions (`GET /pools` `rules`; merged by the supervisor). */
  rules: { args: null; result: RuleReport[] }
  action: { args: EndpointActionRequest; result: EndpointActionResult }
  readiness: { args: null; result: ReadinessReport }
  /** The worker's registry as prom-client's `getMetricsAsJSON()` (aggregated by the supervisor). */
  metrics: { args: null; result: MetricObjectWithValues<MetricValue<string>>[] }
  /** The dashboard history's per-pool counters (summed by the supervisor). */
  counters: { args: null; result: CountersByPool }
  /** The affinity store's status as this worker sees it (Redis: connected, breaker). */
  store: { args: null; result: StoreStatus }
  /** Note: drain and exit (`now`: exit at once, the second signal). */
  shutdown: { args: { readonly now: boolean }; result: null }
}

/** The environment variable carrying a worker's slot number (1…N; stable across restarts of that slot). */
export const WORKER_SLOT_ENV = 'LATCH_WORKER_SLOT'
