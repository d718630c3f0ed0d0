import { afterEach, describe, expect, it } from 'vitest'
import { register } from 'prom-client'
import type { AffinityDeps } from '../../../src/affinity/create-affinity.js'
import { SecretRing } from '../../../src/affinity/secret-ring.js'
import type { AffinityOutcome, SessionAffinity } from '../../../src/affinity/session-affinity.js'
import { ConfigSchema, type ConfigInput } from '../../../src/config/schema.js'
import type { ErrorCode } from '../../../src/errors/proxy-error.js'
import { MemoryAffinityStore } from '../../../src/stores/memory-store.js'
import { Metrics } from '../../../src/observability/metrics.js'
import { poolTarget } from '../../../src/proxying/pool-target.js'
import type { FinishedRequest } from '../../../src/proxying/runtime.js'
import { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { parsePrometheusText, samplesOf, valueOf } from '../../helpers/prometheus-text.js'
import { waitFor } from '../../helpers/wait.js'

type PoolInput = ConfigInput['pools'][number]

/** Real pools (undici pools are created but never connect: no request is sent). */
function setUp(inputs: PoolInput[], affinity?: AffinityDeps): { metrics: Metrics; pools: UpstreamPool[] } {
  const config = ConfigSchema.parse({ pools: inputs })
  const pools: UpstreamPool[] = []
  const metrics = new Metrics(() => pools)
  for (const pool of config.pools) pools.push(new UpstreamPool(pool, metrics, {}))
  // Affinity is wired above the pool, as the runtime does.
  if (affinity !== undefined) for (const pool of pools) affinities.set(pool, poolTarget(pool, affinity).affinity)
  opened.push(...pools)
  return { metrics, pools }
}
const opened: UpstreamPool[] = []
const affinities = new WeakMap<UpstreamPool, SessionAffinity | undefined>()

function finished(pool: UpstreamPool | undefined, endpointIndex: number | undefined, status: number, durationMs: number, affinityOutcome?: AffinityOutcome, errorCode?: ErrorCode, buffered = { bytes: 0, whole: false }): FinishedRequest {
  const endpoint = endpointIndex === undefined ? undefined : pool?.endpoints[endpointIndex]
  return {
    requestId: 'r', method: 'GET', hostHeader: 'h', logPath: '/', status, upstreamStatus: undefined, durationMs, bytesOut: 0, routeDescription: undefined,
    poolName: pool?.name, endpointId: endpoint?.id, attempts: 1, errorCode, clientIp: '127.0.0.1', pool, affinity: pool === undefined ? undefined : affinities.get(pool), endpoint, affinityOutcome,
    bufferedBytes: buffered.bytes, bodyBufferedWhole: buffered.whole,
  }
}

async function scrape(metrics: Metrics): Promise<ReturnType<typeof parsePrometheusText>> {
  return parsePrometheusText(await metrics.scrape())
}

describe('Metrics', () => {
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((pool) => pool.close()))
  })

  it('counts finished requests in one series per pool, endpoint and status, and times them by pool', async () => {
    const { metrics, pools } = setUp([{ name: 'web', endpoints: ['http://127.0.0.1:1', 'http://127.0.0.1:2'] }])
    const web = pools[0] as UpstreamPool
    metrics.requestFinished(finished(web, 0, 200, 4))
    metrics.requestFinished(finished(web, 0, 200, 40))
    metrics.requestFinished(finished(web, 1, 503, 2000))
    metrics.requestFinished(finished(undefined, undefined, 404, 0.5))
    const families = await scrape(metrics)
    expect(samplesOf(families, 'latch_requests_total')).toEqual([
      { name: 'latch_requests_total', labels: { pool: 'web', endpoint: '127.0.0.1:1', class: '2xx', code: '200' }, value: 2 },
      { name: 'latch_requests_total', labels: { pool: 'web', endpoint: '127.0.0.1:2', class: '5xx', code: '503' }, value: 1 },
      { name: 'latch_requests_total', labels: { pool: '', endpoint: '', class: '4xx', code: '404' }, value: 1 },
    ])
    expect(valueOf(families, 'latch_request_duration_seconds_count', { pool: 'web' })).toBe(3)
    expect(valueOf(families, 'latch_request_duration_seconds_sum', { pool: 'web' })).toBeCloseTo(2.044)
    expect(valueOf(families, 'latch_request_duration_seconds_bucket', { pool: 'web', le: '0.005' })).toBe(1)
    expect(valueOf(families, 'latch_request_duration_seconds_bucket', { pool: 'web', le: '0.05' })).toBe(2)
    expect(valueOf(families, 'latch_request_duration_seconds_bucket', { pool: 'web', le: '1' })).toBe(2)
    expect(valueOf(families, 'latch_request_duration_seconds_bucket', { pool: 'web', le: '2.5' })).toBe(3)
    expect(valueOf(families, 'latch_request_duration_seconds_bucket', { pool: '', le: '0.001' })).toBe(1)
  })

  it('reads pool and endpoint families from the live counters at each scrape', async () => {
    const { metrics, pools } = setUp([{ name: 'web', endpoints: ['http://127.0.0.1:1', 'http://127.0.0.1:2'] }])
    const web = pools[0] as UpstreamPool
    const [first, second] = web.endpoints as [UpstreamPool['endpoints'][number], UpstreamPool['endpoints'][number]]
    first.inflight = 3
    first.errors.ERR_UPSTREAM_TIMEOUT = 2
    first.ejections = 1
    web.retries = 4
    web.queue.rejectedFull = 5
    web.queue.timedOut = 6
    second.setAdminState('maintenance')
    const families = await scrape(metrics)
    expect(valueOf(families, 'latch_endpoint_requests_in_flight', { pool: 'web', endpoint: first.id })).toBe(3)
    expect(valueOf(families, 'latch_endpoint_requests_in_flight', { pool: 'web', endpoint: second.id })).toBe(0)
    expect(valueOf(families, 'latch_upstream_errors_total', { pool: 'web', endpoint: first.id, kind: 'ERR_UPSTREAM_TIMEOUT' })).toBe(2)
    expect(valueOf(families, 'latch_endpoint_ejections_total', { pool: 'web', endpoint: first.id })).toBe(1)
    expect(valueOf(families, 'latch_retries_total', { pool: 'web' })).toBe(4)
    expect(valueOf(families, 'latch_pool_queue_rejections_total', { pool: 'web', reason: 'full' })).toBe(5)
    expect(valueOf(families, 'latch_pool_queue_rejections_total', { pool: 'web', reason: 'timeout' })).toBe(6)
    expect(valueOf(families, 'latch_pool_pending_requests', { pool: 'web' })).toBe(0)
    expect(valueOf(families, 'latch_pool_panic', { pool: 'web' })).toBe(0)
    const stateOf = (id: string): string[] => samplesOf(families, 'latch_endpoint_state', { pool: 'web', endpoint: id }).filter((sample) => sample.value === 1).map((sample) => sample.labels.state as string)
    expect(stateOf(first.id)).toEqual(['healthy'])
    expect(stateOf(second.id)).toEqual(['maintenance'])
    expect(samplesOf(families, 'latch_endpoint_state', { pool: 'web', endpoint: second.id })).toHaveLength(5)

    second.setAdminState('draining')
    first.inflight = 0
    const later = await scrape(metrics)
    expect(valueOf(later, 'latch_endpoint_state', { pool: 'web', endpoint: second.id, state: 'draining' })).toBe(1)
    expect(valueOf(later, 'latch_endpoint_state', { pool: 'web', endpoint: second.id, state: 'maintenance' })).toBe(0)
    expect(valueOf(later, 'latch_endpoint_requests_in_flight', { pool: 'web', endpoint: first.id })).toBe(0)
  })

  it('has zero DNS and health-check series for pools that use them, and counts what is reported', async () => {
    const { metrics } = setUp([
      { name: 'found', discovery: { dns: 'web.example.internal', port: 8080 } },
      { name: 'checked', endpoints: ['http://127.0.0.1:1'], healthCheck: { path: '/healthz' } },
      { name: 'plain', endpoints: ['http://127.0.0.1:2'] },
    ])
    let families = await scrape(metrics)
    expect(samplesOf(families, 'latch_dns_refreshes_total')).toEqual([{ name: 'latch_dns_refreshes_total', labels: { pool: 'found' }, value: 0 }])
    expect(samplesOf(families, 'latch_dns_failures_total')).toEqual([{ name: 'latch_dns_failures_total', labels: { pool: 'found' }, value: 0 }])
    expect(samplesOf(families, 'latch_health_checks_total').map((sample) => [sample.labels.pool, sample.labels.result, sample.value])).toEqual([['checked', 'success', 0], ['checked', 'failure', 0]])

    metrics.dnsRefreshed('found')
    metrics.dnsRefreshed('found')
    metrics.dnsFailed('found')
    metrics.healthChecked('checked', '127.0.0.1:1', true)
    metrics.healthChecked('checked', '127.0.0.1:1', false)
    metrics.healthChecked('checked', '127.0.0.1:1', false)
    families = await scrape(metrics)
    expect(valueOf(families, 'latch_dns_refreshes_total', { pool: 'found' })).toBe(2)
    expect(valueOf(families, 'latch_dns_failures_total', { pool: 'found' })).toBe(1)
    expect(valueOf(families, 'latch_health_checks_total', { pool: 'checked', endpoint: '127.0.0.1:1', result: 'success' })).toBe(1)
    expect(valueOf(families, 'latch_health_checks_total', { pool: 'checked', endpoint: '127.0.0.1:1', result: 'failure' })).toBe(2)
  })

  it('forgets the series of an endpoint once it has left its pool', async () => {
    const { metrics, pools } = setUp([{ name: 'web', endpoints: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], drainTimeout: '10ms', healthCheck: { path: '/healthz' } }])
    const web = pools[0] as UpstreamPool
    metrics.requestFinished(finished(web, 0, 200, 1))
    metrics.requestFinished(finished(web, 1, 200, 1))
    metrics.healthChecked('web', '127.0.0.1:2', true)
    web.setEndpoints('static', [{ url: 'http://127.0.0.1:1', weight: 1 }])
    await waitFor(() => web.endpoints.length === 1, 2000, 10, 'the removed endpoint to finish draining')
    const families = await scrape(metrics)
    const endpointsIn = (name: string): string[] => [...new Set(samplesOf(families, name, { pool: 'web' }).map((sample) => sample.labels.endpoint as string))]
    for (const name of ['latch_requests_total', 'latch_health_checks_total', 'latch_endpoint_state', 'latch_endpoint_requests_in_flight']) {
      expect(endpointsIn(name), name).toEqual(['127.0.0.1:1'])
    }
  })

  it('counts affinity outcomes by pool, mode and outcome, and reports live bound sessions per endpoint', async () => {
    const store = new MemoryAffinityStore()
    const { metrics, pools } = setUp(
      [
        { name: 'web', endpoints: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], affinity: { mode: 'client-ip', onUnavailable: 'fail' } },
        { name: 'plain', endpoints: ['http://127.0.0.1:3'] },
      ],
      { ring: new SecretRing(['metrics-test-secret-0123456789']), store },
    )
    const [web, plain] = pools as [UpstreamPool, UpstreamPool]
    for (const outcome of ['new', 'hit', 'hit', 'rebound', 'invalid'] as const) metrics.requestFinished(finished(web, 0, 200, 1, outcome))
    metrics.requestFinished(finished(web, undefined, 503, 1, undefined, 'ERR_SESSION_UNAVAILABLE'))
    metrics.requestFinished(finished(web, 0, 200, 1))
    metrics.requestFinished(finished(plain, 0, 200, 1))
    store.touchSession('web:ip', '10.0.0.1', '127.0.0.1:2', 60_000)
    store.touchSession('web:ip', '10.0.0.2', '127.0.0.1:2', 60_000)
    const families = await scrape(metrics)
    const outcomes = Object.fromEntries(samplesOf(families, 'latch_affinity_requests_total', { pool: 'web', mode: 'client-ip' }).map((sample) => [sample.labels.outcome, sample.value]))
    expect(outcomes).toEqual({ hit: 2, new: 1, rebound: 1, expired: 0, invalid: 1, unavailable: 1 })
    expect(samplesOf(families, 'latch_affinity_requests_total', { pool: 'plain' })).toEqual([])
    expect(valueOf(families, 'latch_endpoint_bound_sessions', { pool: 'web', endpoint: '127.0.0.1:1' })).toBe(0)
    expect(valueOf(families, 'latch_endpoint_bound_sessions', { pool: 'web', endpoint: '127.0.0.1:2' })).toBe(2)
    expect(samplesOf(families, 'latch_endpoint_bound_sessions', { pool: 'plain' })).toEqual([])
    await store.close()
  })

  it('counts request bodies read before dispatch (whole or prefix, and their bytes) and slow-body cuts by reason', async () => {
    const { metrics, pools } = setUp([{ name: 'web', endpoints: ['http://127.0.0.1:1'] }])
    const web = pools[0] as UpstreamPool
    metrics.requestFinished(finished(web, 0, 200, 1, undefined, undefined, { bytes: 100, whole: true }))
    metrics.requestFinished(finished(web, 0, 200, 1, undefined, undefined, { bytes: 50, whole: true }))
    metrics.requestFinished(finished(web, 0, 200, 1, undefined, undefined, { bytes: 65_536, whole: false }))
    metrics.requestFinished(finished(web, undefined, 408, 1, undefined, 'ERR_BODY_TIMEOUT'))
    metrics.requestFinished(finished(web, 0, 408, 1, undefined, 'ERR_BODY_TOO_SLOW', { bytes: 65_536, whole: false }))
    metrics.requestFinished(finished(web, 0, 200, 1))
    const families = await scrape(metrics)
    expect(valueOf(families, 'latch_request_bodies_buffered_total', { pool: 'web', kind: 'whole' })).toBe(2)
    expect(valueOf(families, 'latch_request_bodies_buffered_total', { pool: 'web', kind: 'prefix' })).toBe(2)
    expect(valueOf(families, 'latch_request_body_buffered_bytes_total', { pool: 'web' })).toBe(150 + 2 * 65_536)
    expect(valueOf(families, 'latch_request_body_cuts_total', { pool: 'web', reason: 'buffer_timeout' })).toBe(1)
    expect(valueOf(families, 'latch_request_body_cuts_total', { pool: 'web', reason: 'min_rate' })).toBe(1)
  })

  it('keeps its series in a registry of its own, never the global one', async () => {
    const one = setUp([{ name: 'web', endpoints: ['http://127.0.0.1:1'] }])
    const two = setUp([{ name: 'web', endpoints: ['http://127.0.0.1:1'] }])
    one.metrics.requestFinished(finished(one.pools[0], 0, 200, 1))
    expect(valueOf(await scrape(one.metrics), 'latch_requests_total', { pool: 'web', endpoint: '127.0.0.1:1', class: '2xx', code: '200' })).toBe(1)
    expect(samplesOf(await scrape(two.metrics), 'latch_requests_total')).toEqual([])
    expect(register.getSingleMetric('latch_requests_total')).toBeUndefined()
    expect(register.getMetricsAsArray()).toEqual([])
    expect(one.metrics.contentType).toBe('text/plain; version=0.0.4; charset=utf-8')
  })
})
