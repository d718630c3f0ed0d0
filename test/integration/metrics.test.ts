import { connect, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import { scrapeMetrics } from '../helpers/admin-client.js'
import { holdSlowPaths, type HeldRequests } from '../helpers/held-upstream.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { samplesOf, valueOf } from '../helpers/prometheus-text.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

/** Every Latch family: name, type and label names (histograms add `le` on buckets). */
const FAMILIES: readonly [string, string, readonly string[]][] = [
  ['latch_requests_total', 'counter', ['pool', 'endpoint', 'class', 'code']],
  ['latch_request_duration_seconds', 'histogram', ['pool']],
  ['latch_upstream_errors_total', 'counter', ['pool', 'endpoint', 'kind']],
  ['latch_retries_total', 'counter', ['pool']],
  ['latch_endpoint_state', 'gauge', ['pool', 'endpoint', 'state']],
  ['latch_endpoint_ejections_total', 'counter', ['pool', 'endpoint']],
  ['latch_health_checks_total', 'counter', ['pool', 'endpoint', 'result']],
  ['latch_client_connections', 'gauge', ['listener']],
  ['latch_endpoint_requests_in_flight', 'gauge', ['pool', 'endpoint']],
  ['latch_pool_pending_requests', 'gauge', ['pool']],
  ['latch_pool_queue_rejections_total', 'counter', ['pool', 'reason']],
  ['latch_pool_panic', 'gauge', ['pool']],
  ['latch_dns_refreshes_total', 'counter', ['pool']],
  ['latch_dns_failures_total', 'counter', ['pool']],
  ['latch_affinity_requests_total', 'counter', ['pool', 'mode', 'outcome']],
  ['latch_endpoint_bound_sessions', 'gauge', ['pool', 'endpoint']],
]
/** Families without samples here: nothing in this config does DNS discovery or has affinity (see affinity-*.test.ts). */
const WITHOUT_SAMPLES = new Set(['latch_dns_refreshes_total', 'latch_dns_failures_total', 'latch_affinity_requests_total', 'latch_endpoint_bound_sessions'])

describe('Prometheus metrics at admin /metrics', () => {
  let web: TestUpstream[]
  let queued: TestUpstream
  let queueHold: HeldRequests
  let dead: TestUpstream
  let latch: LatchProcess
  const agent = new Agent()
  let agentClosed = false
  const id = (upstream: TestUpstream): string => `127.0.0.1:${upstream.port}`
  const get = async (path: string): Promise<{ status: number; upstream: string | undefined }> => {
    const response = await request(`${latch.url}${path}`, { dispatcher: agent })
    await response.body.dump()
    return { status: response.statusCode, upstream: response.headers['x-upstream'] as string | undefined }
  }

  beforeAll(async () => {
    web = await Promise.all(['a', 'b'].map((name) => startUpstream(name)))
    web.forEach(holdSlowPaths)
    queued = await startUpstream('q')
    queueHold = holdSlowPaths(queued)
    dead = await startUpstream('dead')
    await dead.stop()
    const backend = (pool: string, path: string): object => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        pools: [
          { name: 'web', endpoints: web.map((upstream) => upstream.url) },
          // The dead endpoint never had a connection, so reaching it is always a refused connect.
          { name: 'retry', endpoints: [dead.url, (web[1] as TestUpstream).url], retry: { attempts: 1 }, passiveHealth: { consecutiveFailures: 1, baseEjectionTime: '5m' } },
          { name: 'queue', endpoints: [queued.url], limits: { maxRequestsPerEndpoint: 1, maxPending: 1, queueTimeout: '30s' }, healthCheck: { path: '/healthz' } },
          { name: 'lonely', endpoints: [dead.url], retry: { attempts: 0 }, passiveHealth: { consecutiveFailures: 1, maxEjectedPercent: 100, baseEjectionTime: '5m' } },
        ],
        routes: { rules: [{ http: { paths: [backend('web', '/web'), backend('retry', '/retry'), backend('queue', '/queue'), backend('lonely', '/lonely')] } }] },
      },
    })
  })

  afterAll(async () => {
    queueHold.releaseAll()
    if (!agentClosed) await agent.close()
    await latch.stop()
    await Promise.all([...web, queued].map((upstream) => upstream.stop()))
  })

  it('counts requests by pool, endpoint, status class and code, and times them by pool', async () => {
    const ok = [await get('/web/one'), await get('/web/two'), await get('/web/three')]
    const teapot = await get('/web/status/418')
    const unrouted = await get('/elsewhere')
    expect(ok.map((reply) => reply.status)).toEqual([200, 200, 200])
    expect([teapot.status, unrouted.status]).toEqual([418, 404])
    const { families } = await scrapeMetrics(latch)
    const okCount = (upstream: TestUpstream): number => valueOf(families, 'latch_requests_total', { pool: 'web', endpoint: id(upstream), class: '2xx', code: '200' }) ?? 0
    expect(okCount(web[0] as TestUpstream) + okCount(web[1] as TestUpstream)).toBe(3)
    const teapotEndpoint = id(web.find((upstream) => upstream.name === teapot.upstream) as TestUpstream)
    expect(valueOf(families, 'latch_requests_total', { pool: 'web', endpoint: teapotEndpoint, class: '4xx', code: '418' })).toBe(1)
    expect(valueOf(families, 'latch_requests_total', { pool: '', endpoint: '', class: '4xx', code: '404' })).toBe(1)
    expect(valueOf(families, 'latch_request_duration_seconds_count', { pool: 'web' })).toBe(4)
    expect(valueOf(families, 'latch_request_duration_seconds_bucket', { pool: 'web', le: '+Inf' })).toBe(4)
    expect(valueOf(families, 'latch_request_duration_seconds_sum', { pool: 'web' })).toBeGreaterThan(0)
    expect(samplesOf(families, 'latch_request_duration_seconds_bucket', { pool: 'web' }).map((sample) => sample.labels.le)).toEqual(['0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '60', '+Inf'])
  })

  it('reads queue length, in-flight requests and queue rejections from the pool at scrape time', async () => {
    const first = get('/queue/slow-1')
    await waitFor(() => queueHold.held.length === 1, 5000, 20, 'the first request to arrive')
    const second = get('/queue/slow-2')
    const waiting = await waitFor(async () => {
      const { families } = await scrapeMetrics(latch)
      return valueOf(families, 'latch_pool_pending_requests', { pool: 'queue' }) === 1 ? families : undefined
    }, 5000, 20, 'one queued request')
    expect(valueOf(waiting, 'latch_endpoint_requests_in_flight', { pool: 'queue', endpoint: id(queued) })).toBe(1)
    expect((await get('/queue/slow-3')).status).toBe(503)

    let families = (await scrapeMetrics(latch)).families
    expect(valueOf(families, 'latch_pool_queue_rejections_total', { pool: 'queue', reason: 'full' })).toBe(1)
    expect(valueOf(families, 'latch_pool_queue_rejections_total', { pool: 'queue', reason: 'timeout' })).toBe(0)
    expect(valueOf(families, 'latch_requests_total', { pool: 'queue', endpoint: '', class: '5xx', code: '503' })).toBe(1)

    queueHold.releaseAll()
    await waitFor(() => queueHold.held.length === 1, 5000, 20, 'the queued request to get the slot')
    queueHold.releaseAll()
    expect([(await first).status, (await second).status]).toEqual([200, 200])
    families = (await scrapeMetrics(latch)).families
    expect(valueOf(families, 'latch_pool_pending_requests', { pool: 'queue' })).toBe(0)
    expect(valueOf(families, 'latch_endpoint_requests_in_flight', { pool: 'queue', endpoint: id(queued) })).toBe(0)
    expect(valueOf(families, 'latch_requests_total', { pool: 'queue', endpoint: id(queued), class: '2xx', code: '200' })).toBe(2)
  })

  it('counts a retry, the upstream error behind it and the ejection it caused; the state gauge follows', async () => {
    const live = web[1] as TestUpstream
    // Round-robin sends one of the first two requests to the dead endpoint: refused, then retried.
    const replies = [await get('/retry/1'), await get('/retry/2')]
    expect(replies).toEqual([{ status: 200, upstream: 'b' }, { status: 200, upstream: 'b' }])
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_retries_total', { pool: 'retry' })).toBe(1)
    expect(valueOf(families, 'latch_retries_total', { pool: 'web' })).toBe(0)
    expect(valueOf(families, 'latch_upstream_errors_total', { pool: 'retry', endpoint: id(dead), kind: 'ERR_UPSTREAM_CONNECT' })).toBe(1)
    expect(valueOf(families, 'latch_endpoint_ejections_total', { pool: 'retry', endpoint: id(dead) })).toBe(1)
    expect(valueOf(families, 'latch_endpoint_ejections_total', { pool: 'retry', endpoint: id(live) })).toBe(0)
    expect(valueOf(families, 'latch_requests_total', { pool: 'retry', endpoint: id(live), class: '2xx', code: '200' })).toBe(2)
    const states = (upstream: TestUpstream): Record<string, number> => Object.fromEntries(samplesOf(families, 'latch_endpoint_state', { pool: 'retry', endpoint: id(upstream) }).map((sample) => [sample.labels.state, sample.value]))
    expect(states(dead)).toEqual({ healthy: 0, stalled: 0, unhealthy: 1, draining: 0, maintenance: 0 })
    expect(states(live)).toEqual({ healthy: 1, stalled: 0, unhealthy: 0, draining: 0, maintenance: 0 })
    expect(valueOf(families, 'latch_pool_panic', { pool: 'retry' })).toBe(0)
  })

  it('shows panic mode when a pool has no healthy endpoint left', async () => {
    expect((await get('/lonely/x')).status).toBe(502)
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_pool_panic', { pool: 'lonely' })).toBe(1)
    expect(valueOf(families, 'latch_endpoint_ejections_total', { pool: 'lonely', endpoint: id(dead) })).toBe(1)
    expect(valueOf(families, 'latch_requests_total', { pool: 'lonely', endpoint: id(dead), class: '5xx', code: '502' })).toBe(1)
  })

  it('exposes every family in the text format with HELP, TYPE and the right labels, plus process metrics', async () => {
    const { contentType, families } = await scrapeMetrics(latch)
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8')
    for (const [name, type, labels] of FAMILIES) {
      const family = families.get(name)
      expect(family, name).toBeDefined()
      expect(family?.type, name).toBe(type)
      expect(family?.help, name).not.toBe('')
      if (WITHOUT_SAMPLES.has(name)) continue
      expect(family?.samples.length, `${name} samples`).toBeGreaterThan(0)
      for (const sample of family?.samples ?? []) {
        const expected = sample.name.endsWith('_bucket') ? [...labels, 'le'] : labels
        expect(Object.keys(sample.labels).sort(), sample.name).toEqual([...expected].sort())
      }
    }
    // The pool has active checks: its first probe ran at start and was counted.
    expect(valueOf(families, 'latch_health_checks_total', { pool: 'queue', endpoint: id(queued), result: 'success' })).toBeGreaterThanOrEqual(1)
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(families.has(name), name).toBe(true)
    }
  })

  it('counts open client connections per traffic listener', async () => {
    await agent.close()
    agentClosed = true
    const connections = async (): Promise<number | undefined> => valueOf((await scrapeMetrics(latch)).families, 'latch_client_connections', { listener: `127.0.0.1:${latch.port}` })
    await waitFor(async () => (await connections()) === 0, 5000, 20, 'no client connections')
    const sockets: Socket[] = []
    for (let i = 0; i < 2; i++) sockets.push(connect(latch.port, '127.0.0.1'))
    await waitFor(async () => (await connections()) === 2, 5000, 20, 'two client connections')
    sockets.forEach((socket) => socket.destroy())
    await waitFor(async () => (await connections()) === 0, 5000, 20, 'the connections to close')
  })
})
