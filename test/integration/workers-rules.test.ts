/**
 * `GET /pools` `rules` with `--workers 2`: the supervisor merges its workers' route-rule reports —
 * requests per rule and backend add up to every request sent, across both workers, and the rule's
 * live sessions (counted cluster-wide in the supervisor's store, so each worker reports the same
 * numbers) are counted once per session, not once per worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { adminCall, scrapeMetrics } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { samplesOf } from '../helpers/prometheus-text.js'
import { clientAgent, distinct, runClients, sessionClients } from '../helpers/session-clients.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const RULE = 'httproute/default/shop/rule-0'

interface RuleBody {
  readonly rules?: { id: string; backends: { pool: string; weight: number; requests: number; liveSessions?: number; sessions: string }[] }[]
}

describe('route rules in GET /pools with --workers 2', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  let agent: Agent

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
    const [a, b, c] = upstreams.map((upstream) => upstream.url)
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'off' },
        sessionSecrets: ['workers-rules-secret-0123456789'],
        pools: [{ name: 'main', endpoints: [a, b] }, { name: 'canary', endpoints: [c] }],
        routes: [{
          apiVersion: 'gateway.networking.k8s.io/v1',
          kind: 'HTTPRoute',
          metadata: { name: 'shop' },
          spec: { rules: [{ backendRefs: [{ name: 'main', weight: 70 }, { name: 'canary', weight: 30 }], sessionPersistence: { type: 'Cookie', sessionName: 'latch' } }] },
        }],
      },
      args: ['--workers', '2'],
      timeoutMs: 15_000,
    })
    // Several connections, so both workers route some of the requests.
    agent = clientAgent(16)
  })

  afterAll(async () => {
    await latch?.stop()
    await agent?.close()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  })

  it('sums requests over the workers and counts each live session once', async () => {
    const clients = sessionClients(120, 'cookie')
    await runClients(clients, latch.url, { requests: 3, concurrency: 16, agent })
    for (const client of clients) expect(distinct(client.upstreams)).toHaveLength(1)
    const served = samplesOf((await scrapeMetrics(latch)).families, 'latch_worker_requests_total').filter((sample) => sample.value > 0)
    expect(served.length).toBe(2)
    const onCanary = clients.filter((client) => client.upstreams[0] === 'c').length
    let rule: NonNullable<RuleBody['rules']>[number] | undefined
    // Live counts reach the supervisor's store within a second or two (workers batch their reports).
    await waitFor(async () => {
      rule = ((await adminCall(latch, 'GET', '/pools')).body as RuleBody).rules?.find((candidate) => candidate.id === RULE)
      return rule?.backends.every((backend) => backend.liveSessions === (backend.pool === 'canary' ? onCanary : clients.length - onCanary)) === true
    }, 10_000)
    expect(rule?.backends.map((backend) => [backend.pool, backend.weight, backend.sessions])).toEqual([['main', 70, 'rule'], ['canary', 30, 'rule']])
    expect((rule?.backends ?? []).reduce((total, backend) => total + backend.requests, 0)).toBe(clients.length * 3)
    expect(rule?.backends.find((backend) => backend.pool === 'canary')?.requests).toBe(onCanary * 3)
  })
})
