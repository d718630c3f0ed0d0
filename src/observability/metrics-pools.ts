/**
 * @module Pool and endpoint metrics read at scrape time from the counters pools and endpoints keep.
 *
 * Nothing here runs per request: each family's `collect()` walks the current pools when Prometheus
 * scrapes and copies the live values (so a config reload is picked up without re-registering).
 */
import { Counter, Gauge, type LabelValues, type Registry } from 'prom-client'
import type { Endpoint, EndpointState } from '../upstream/endpoint.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'

type Emit = (labels: LabelValues<string>, value: number) => void

interface Family {
  readonly type: 'counter' | 'gauge'
  readonly name: string
  readonly help: string
  readonly labelNames: readonly string[]
  /**
   * How the supervisor combines the workers' values (workers > 1): counters and amounts add up
   * (the default); a state is 1 when any worker reports it.
   */
  readonly aggregator?: 'max'
  readonly read: (pool: UpstreamPool, emit: Emit) => void
}

/** Every endpoint state (checked against EndpointState by the compiler), one series each. */
const STATES = Object.keys({ healthy: 1, stalled: 1, unhealthy: 1, draining: 1, maintenance: 1 } satisfies Record<EndpointState, 1>)

function perEndpoint(read: (endpoint: Endpoint, labels: { pool: string; endpoint: string }, emit: Emit) => void): Family['read'] {
  return (pool, emit) => {
    for (const endpoint of pool.endpoints) read(endpoint, { pool: pool.name, endpoint: endpoint.id }, emit)
  }
}

const FAMILIES: readonly Family[] = [
  {
    type: 'counter', name: 'latch_upstream_errors_total', help: 'Failed upstream attempts by pool, endpoint and kind (the Latch error code, e.g. ERR_UPSTREAM_CONNECT).', labelNames: ['pool', 'endpoint', 'kind'],
    read: perEndpoint((endpoint, labels, emit) => {
      for (const [kind, count] of Object.entries(endpoint.errors)) emit({ ...labels, kind }, count)
    }),
  },
  { type: 'counter', name: 'latch_retries_total', help: 'Retries (extra attempts on another endpoint) by pool.', labelNames: ['pool'], read: (pool, emit) => emit({ pool: pool.name }, pool.retries) },
  {
    type: 'gauge', name: 'latch_endpoint_state', help: 'Endpoint state: one series per state, 1 for the current one (healthy, stalled, unhealthy, draining, maintenance).', labelNames: ['pool', 'endpoint', 'state'], aggregator: 'max',
    read: perEndpoint((endpoint, labels, emit) => {
      for (const state of STATES) emit({ ...labels, state }, endpoint.state === state ? 1 : 0)
    }),
  },
  { type: 'counter', name: 'latch_endpoint_ejections_total', help: 'Passive-health ejections by pool and endpoint.', labelNames: ['pool', 'endpoint'], read: perEndpoint((endpoint, labels, emit) => emit(labels, endpoint.ejections)) },
  { type: 'counter', name: 'latch_endpoint_stalls_total', help: 'Times passive health found an endpoint stalled (no response for stallTimeout while requests waited), by pool and endpoint.', labelNames: ['pool', 'endpoint'], read: perEndpoint((endpoint, labels, emit) => emit(labels, endpoint.stalls)) },
  { type: 'gauge', name: 'latch_endpoint_requests_in_flight', help: 'Requests being proxied to each endpoint now.', labelNames: ['pool', 'endpoint'], read: perEndpoint((endpoint, labels, emit) => emit(labels, endpoint.inflight)) },
  {
    type: 'gauge', name: 'latch_endpoint_bound_sessions', help: 'Live sessions bound to each endpoint (pools with affinity): a draining endpoint can go once it reaches 0.', labelNames: ['pool', 'endpoint'],
    // Counts come from the store, cluster-wide when it is shared (IPC, Redis): workers report the same numbers.
    aggregator: 'max',
    read: (pool, emit) => {
      const counts = pool.sessionCounts?.()
      if (counts === undefined) return
      for (const endpoint of pool.endpoints) emit({ pool: pool.name, endpoint: endpoint.id }, counts.get(endpoint.id) ?? 0)
    },
  },
  { type: 'gauge', name: 'latch_pool_pending_requests', help: 'Requests waiting in the pool\'s pending queue for a free endpoint slot.', labelNames: ['pool'], read: (pool, emit) => emit({ pool: pool.name }, pool.queue.length) },
  {
    type: 'counter', name: 'latch_pool_queue_rejections_total', help: 'Requests refused by the pending queue by pool and reason (full, timeout); each got 503.', labelNames: ['pool', 'reason'],
    read: (pool, emit) => {
      emit({ pool: pool.name, reason: 'full' }, pool.queue.rejectedFull)
      emit({ pool: pool.name, reason: 'timeout' }, pool.queue.timedOut)
    },
  },
  { type: 'gauge', name: 'latch_pool_panic', help: '1 while the pool is in panic mode (too few healthy endpoints, so it routes to all of them).', labelNames: ['pool'], aggregator: 'max', read: (pool, emit) => emit({ pool: pool.name }, pool.panic ? 1 : 0) },
]

/** Registers the scrape-time pool and endpoint families on `registry`, reading `pools()` per scrape. */
export function registerPoolMetrics(registry: Registry, pools: () => Iterable<UpstreamPool>): void {
  for (const family of FAMILIES) {
    const config = { name: family.name, help: family.help, labelNames: family.labelNames, registers: [registry], aggregator: family.aggregator ?? ('sum' as const) }
    if (family.type === 'counter') {
      new Counter({ ...config, collect() {
        this.reset()
        for (const pool of pools()) family.read(pool, (labels, value) => this.inc(labels, value))
      } })
    } else {
      new Gauge({ ...config, collect() {
        this.reset()
        for (const pool of pools()) family.read(pool, (labels, value) => this.set(labels, value))
      } })
    }
  }
}
