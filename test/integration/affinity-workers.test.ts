/**
 * Live bound-session counts with `--workers 2`: both workers read the same cluster-wide counts from
 * the supervisor's store, so `GET /pools` (`sessions`) and `latch_endpoint_bound_sessions` report
 * each session once — not once per worker — and a drained endpoint's count still falls to zero.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { adminCall, endpointAction, scrapeMetrics } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { samplesOf } from '../helpers/prometheus-text.js'
import { clientAgent, distinct, maxDeviation, runClients, sessionClients } from '../helpers/session-clients.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

describe('bound-session counts with --workers 2', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  let agent: Agent

  async function sessions(): Promise<Record<string, number>> {
    const reply = await adminCall(latch, 'GET', '/pools')
    const pool = (reply.body.pools as { name: string; endpoints: { id: string; sessions: number }[] }[]).find((candidate) => candidate.name === 'web')
    return Object.fromEntries((pool?.endpoints ?? []).map((endpoint) => [endpoint.id, endpoint.sessions]))
  }

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'off' },
        sessionSecrets: ['workers-affinity-secret-0123456789'],
        pools: [
          { name: 'web', endpoints: upstreams.map((upstream) => upstream.url), affinity: { mode: 'cookie', cookie: { idleTimeout: '3s' } } },
          { name: 'fill', balance: 'least-sessions', endpoints: upstreams.map((upstream) => upstream.url), affinity: { mode: 'cookie', cookie: { name: 'fill' } } },
        ],
        routes: { rules: [{ http: { paths: [
          { path: '/fill', pathType: 'Prefix', backend: { service: { name: 'fill' } } },
          { path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } },
        ] } }] },
      },
      args: ['--workers', '2'],
      timeoutMs: 15_000,
    })
    // Several connections, so both workers take some of the sessions.
    agent = clientAgent(16)
  })

  afterAll(async () => {
    await latch?.stop()
    await agent?.close()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  })

  it('counts each session once in GET /pools and in latch_endpoint_bound_sessions, and a drained endpoint falls to zero', async () => {
    const clients = sessionClients(150, 'cookie')
    await runClients(clients, latch.url, { requests: 3, concurrency: 16, agent })
    for (const client of clients) expect(distinct(client.upstreams)).toHaveLength(1)
    const expected = Object.fromEntries(upstreams.map((upstream) => [`127.0.0.1:${upstream.port}`, clients.filter((client) => client.upstreams[0] === upstream.name).length]))
    // Counts reach the admin API within a second or two (workers batch their reports).
    await waitFor(async () => JSON.stringify(await sessions()) === JSON.stringify(expected), 8000, 200, `sessions ${JSON.stringify(expected)}`)
    const { families } = await scrapeMetrics(latch)
    const gauge = Object.fromEntries(samplesOf(families, 'latch_endpoint_bound_sessions', { pool: 'web' }).map((sample) => [sample.labels.endpoint, sample.value]))
    expect(gauge).toEqual(expected)
    // Both workers served (else summing per worker would look right by chance).
    const perWorker = samplesOf(families, 'latch_worker_requests_total').map((sample) => sample.value)
    expect(perWorker).toHaveLength(2)
    for (const served of perWorker) expect(served).toBeGreaterThan(0)
    const drained = `127.0.0.1:${(upstreams[0] as TestUpstream).port}`
    await endpointAction(latch, 'web', drained, 'drain')
    await waitFor(async () => (await sessions())[drained] === 0, 12_000, 250, 'drained endpoint at zero sessions')
  })

  it('least-sessions spreads 1,000 new sessions within ±15 % of even across two workers (counts shared with up to a second of lag)', async () => {
    const clients = sessionClients(1000, 'cookie', 50_000)
    for (const client of clients) client.cookieName = 'fill'
    await runClients(clients, latch.url, { requests: 2, concurrency: 16, agent, path: '/fill/x' })
    for (const client of clients) expect(distinct(client.upstreams)).toHaveLength(1)
    const perEndpoint = upstreams.map((upstream) => clients.filter((client) => client.upstreams[0] === upstream.name).length)
    console.info(`least-sessions with --workers 2: sessions per endpoint ${perEndpoint.join(', ')} (max deviation ${(maxDeviation(perEndpoint) * 100).toFixed(1)} %)`)
    expect(maxDeviation(perEndpoint)).toBeLessThanOrEqual(0.15)
  })
})
