/**
 * Acceptance through the real CLI and real upstreams: the endpoint holding a fifth of the sessions
 * is killed. In `rebind` pools (cookie, client-ip, header, learn) each of its sessions moves exactly once and gets a
 * new binding (`X-Latch-Affinity: rebound`; a new Set-Cookie or token header), no other session
 * moves, and once the endpoint is back the moved sessions stay where they are. In an
 * `onUnavailable: fail` pool its sessions get 503 ERR_SESSION_UNAVAILABLE with Retry-After instead,
 * keep their binding, and reach the endpoint again once it is back.
 */
import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import type { Agent } from 'undici'
import { adminCall, scrapeMetrics } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { samplesOf } from '../helpers/prometheus-text.js'
import { appSessionMode, clientAgent, distinct, runClients, sessionClients, type SessionClient } from '../helpers/session-clients.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const NAMES = ['a', 'b', 'c', 'd', 'e']
const CLIENTS = 500

interface Group {
  readonly pool: string
  readonly clients: SessionClient[]
  /** Each client's endpoint before the kill. */
  home: Map<SessionClient, string>
}

describe('failover: the endpoint holding a fifth of the sessions dies and comes back', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  let agent: Agent
  let victim: TestUpstream
  const groups: Group[] = [
    { pool: 'cookie', clients: sessionClients(CLIENTS, 'cookie'), home: new Map() },
    { pool: 'clientip', clients: sessionClients(CLIENTS, 'client-ip'), home: new Map() },
    { pool: 'header', clients: sessionClients(CLIENTS, 'header'), home: new Map() },
    { pool: 'learn', clients: sessionClients(CLIENTS, 'learn'), home: new Map() },
    { pool: 'strict', clients: sessionClients(CLIENTS, 'cookie'), home: new Map() },
  ]
  const group = (pool: string): Group => groups.find((candidate) => candidate.pool === pool) as Group
  /** Visits of each client from index `from` on. */
  const since = (client: SessionClient, from: number): SessionClient['visits'] => client.visits.slice(from)
  const marks = new Map<SessionClient, number>()

  beforeAll(async () => {
    upstreams = await Promise.all(NAMES.map((name) => startUpstream(name, { mode: appSessionMode(name) })))
    const pool = (name: string, affinity: object): object => ({
      name,
      endpoints: upstreams.map((upstream) => upstream.url),
      // A dead endpoint is noticed by failed requests (passive) and by probes (active), and readmitted
      // once probes pass again and its short ejection has ended. Thresholds tolerate a slow probe on
      // a busy CI runner, so only the killed endpoint ever leaves.
      passiveHealth: { consecutiveFailures: 3, baseEjectionTime: '1s', maxEjectedPercent: 100 },
      healthCheck: { path: '/healthz', interval: '200ms', timeout: '1s', unhealthyThreshold: 2, healthyThreshold: 1 },
      affinity: { responseHeader: true, ...affinity },
    })
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'off' },
        sessionSecrets: ['failover-test-secret-0123456789ab'],
        trustedProxies: ['127.0.0.1/32'],
        pools: [
          pool('cookie', { mode: 'cookie' }),
          pool('clientip', { mode: 'client-ip' }),
          pool('header', { mode: 'header' }),
          pool('learn', { mode: 'learn', learn: { source: 'cookie', name: 'connect.sid' } }),
          pool('strict', { mode: 'cookie', onUnavailable: 'fail' }),
        ],
        routes: { rules: [{ http: { paths: groups.map(({ pool: name }) => ({ path: `/${name}`, pathType: 'Prefix', backend: { service: { name } } })) } }] },
      },
    })
    agent = clientAgent(32)
  })

  afterAll(async () => {
    await latch?.stop()
    await agent?.close()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop().catch(() => undefined)))
  })

  async function round(requests: number): Promise<void> {
    for (const { clients } of groups) for (const client of clients) marks.set(client, client.visits.length)
    await Promise.all(groups.map(({ pool, clients }) => runClients(clients, latch.url, { requests, concurrency: 16, agent, path: `/${pool}/page` })))
  }

  async function available(name: string): Promise<boolean> {
    const reply = await adminCall(latch, 'GET', '/pools')
    const pools = reply.body.pools as { name: string; endpoints: { id: string; available: boolean }[] }[]
    const id = `127.0.0.1:${(upstreams.find((upstream) => upstream.name === name) as TestUpstream).port}`
    return pools.every((pool) => pool.endpoints.find((endpoint) => endpoint.id === id)?.available === true)
  }

  it('binds 500 sessions per pool, one endpoint each, about a fifth on each endpoint', async () => {
    await round(3)
    for (const { clients, home } of groups) {
      for (const client of clients) {
        expect(distinct(client.upstreams)).toHaveLength(1)
        home.set(client, client.upstreams[0] as string)
      }
    }
    const perEndpoint = NAMES.map((name) => group('cookie').clients.filter((client) => group('cookie').home.get(client) === name).length)
    victim = upstreams[perEndpoint.indexOf(Math.max(...perEndpoint))] as TestUpstream
    expect(Math.max(...perEndpoint)).toBeGreaterThanOrEqual(CLIENTS / 5)
  })

  it('rebind: each session of the dead endpoint moves exactly once, with a new binding; no other session moves', async () => {
    await victim.stop()
    await round(6)
    // Only the killed endpoint left (anything else would be the test runner's doing, not Latch's).
    const victimId = `127.0.0.1:${victim.port}`
    expect(latch.logs.filter((line) => line.msg === 'endpoint state changed' && line.endpoint !== victimId)).toEqual([])
    for (const pool of ['cookie', 'clientip', 'header', 'learn']) {
      const { clients, home } = group(pool)
      let affected = 0
      for (const client of clients) {
        const visits = since(client, marks.get(client) as number)
        expect(visits.every((visit) => visit.status === 200), `${pool} client ${client.index}: ${visits.map((visit) => `${visit.status} ${visit.code ?? ''}`).join(', ')}`).toBe(true)
        if (home.get(client) !== victim.name) {
          expect(distinct(visits.map((visit) => visit.upstream)), `${pool} unaffected client ${client.index}`).toEqual([home.get(client)])
          expect(distinct(visits.map((visit) => visit.affinity))).toEqual(['hit'])
          continue
        }
        affected++
        const landed = distinct(visits.map((visit) => visit.upstream))
        expect(landed, `${pool} affected client ${client.index}`).toHaveLength(1)
        expect(landed[0]).not.toBe(victim.name)
        // Exactly one rebound (the first request after the kill), then hits on the new endpoint.
        expect(visits.map((visit) => visit.affinity)).toEqual(['rebound', 'hit', 'hit', 'hit', 'hit', 'hit'])
        if (pool === 'cookie' || pool === 'header') {
          expect(visits[0]?.newBinding).toBeDefined()
          expect(visits.slice(1).every((visit) => visit.newBinding === undefined)).toBe(true)
        }
      }
      expect(affected, pool).toBeGreaterThanOrEqual(CLIENTS / 5 - 30)
    }
  })

  it('fail: sessions of the dead endpoint get 503 ERR_SESSION_UNAVAILABLE with Retry-After and keep their binding; others are served', () => {
    const { clients, home } = group('strict')
    for (const client of clients) {
      const visits = since(client, marks.get(client) as number)
      if (home.get(client) === victim.name) {
        for (const visit of visits) {
          expect(visit.status).toBe(503)
          expect(visit.code).toBe('ERR_SESSION_UNAVAILABLE')
          expect(Number(visit.retryAfter)).toBeGreaterThan(0)
          expect(visit.newBinding).toBeUndefined()
        }
      } else {
        expect(visits.every((visit) => visit.status === 200 && visit.upstream === home.get(client))).toBe(true)
      }
    }
  })

  it('after the endpoint returns, moved sessions stay put; fail-mode sessions reach it again; new sessions use it', async () => {
    await victim.restart()
    await waitFor(() => available(victim.name), 10_000, 100, `${victim.name} available again`)
    const moved = new Map<SessionClient, string>()
    for (const pool of ['cookie', 'clientip', 'header', 'learn']) for (const client of group(pool).clients) moved.set(client, client.upstreams.at(-1) as string)
    await round(3)
    for (const pool of ['cookie', 'clientip', 'header', 'learn']) {
      for (const client of group(pool).clients) {
        const visits = since(client, marks.get(client) as number)
        expect(distinct(visits.map((visit) => `${visit.status} ${visit.upstream} ${visit.affinity}`)), `${pool} client ${client.index}`).toEqual([`200 ${moved.get(client)} hit`])
      }
    }
    const { clients, home } = group('strict')
    for (const client of clients) {
      const visits = since(client, marks.get(client) as number)
      expect(distinct(visits.map((visit) => `${visit.status} ${visit.upstream} ${visit.affinity}`)), `strict client ${client.index}`).toEqual([`200 ${home.get(client)} hit`])
    }
    const newcomers = sessionClients(50, 'cookie', 10_000)
    await runClients(newcomers, latch.url, { requests: 1, agent, path: '/cookie/page' })
    expect(newcomers.some((client) => client.upstreams[0] === victim.name)).toBe(true)
  })

  it('metrics: rebound and unavailable outcomes are counted per pool', async () => {
    const { families } = await scrapeMetrics(latch)
    const value = (pool: string, outcome: string): number => samplesOf(families, 'latch_affinity_requests_total', { pool, outcome })[0]?.value ?? 0
    const affected = (pool: string): number => group(pool).clients.filter((client) => group(pool).home.get(client) === victim.name).length
    expect(value('cookie', 'rebound')).toBe(affected('cookie'))
    expect(value('clientip', 'rebound')).toBe(affected('clientip'))
    expect(value('header', 'rebound')).toBe(affected('header'))
    expect(value('learn', 'rebound')).toBe(affected('learn'))
    expect(value('strict', 'rebound')).toBe(0)
    expect(value('strict', 'unavailable')).toBe(affected('strict') * 6)
  })
})

describe('onUnavailable: fail with retry.onStatus', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  let agent: Agent

  beforeAll(async () => {
    upstreams = await Promise.all(['x', 'y'].map((name) => startUpstream(name)))
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'off' },
        sessionSecrets: ['failover-test-secret-0123456789ab'],
        pools: [{ name: 'strict', endpoints: upstreams.map((upstream) => upstream.url), retry: { attempts: 1, onStatus: [503] }, affinity: { mode: 'cookie', responseHeader: true, onUnavailable: 'fail' } }],
      },
    })
    agent = clientAgent(4)
  })

  afterAll(async () => {
    await latch?.stop()
    await agent?.close()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  })

  it('a 5xx from the session\'s endpoint is its answer: passed through, not retried elsewhere, the binding kept', async () => {
    const [client] = sessionClients(1, 'cookie') as [SessionClient]
    await client.visit(latch.url, agent)
    const home = upstreams.find((upstream) => upstream.name === client.upstreams[0]) as TestUpstream
    const cookie = client.binding
    home.mode = { kind: 'status', status: 503 }
    const refused = await client.visit(latch.url, agent)
    expect([refused.status, refused.upstream, refused.code, refused.affinity]).toEqual([503, home.name, undefined, 'hit'])
    expect(client.binding).toBe(cookie)
    home.mode = { kind: 'echo' }
    expect((await client.visit(latch.url, agent)).upstream).toBe(home.name)
  })
})

describe('onUnavailable: fail with an endpoint removed for good', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  let agent: Agent
  const config = (endpoints: TestUpstream[]): object => ({
    listen: '127.0.0.1:0',
    log: { level: 'info', access: 'off' },
    sessionSecrets: ['failover-test-secret-0123456789ab'],
    pools: [{ name: 'strict', endpoints: endpoints.map((upstream) => upstream.url), drainTimeout: '300ms', affinity: { mode: 'cookie', responseHeader: true, onUnavailable: 'fail' } }],
  })

  beforeAll(async () => {
    upstreams = await Promise.all(['x', 'y'].map((name) => startUpstream(name)))
    latch = await startLatch({ config: config(upstreams) })
    agent = clientAgent(4)
  })

  afterAll(async () => {
    await latch?.stop()
    await agent?.close()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  })

  it('the session is rebound once, not refused until it expires: its endpoint never comes back', async () => {
    const [client] = sessionClients(1, 'cookie') as [SessionClient]
    await client.visit(latch.url, agent)
    const home = client.upstreams[0] as string
    const other = upstreams.find((upstream) => upstream.name !== home) as TestUpstream
    writeFileSync(latch.configFile as string, stringify(config([other])))
    expect((await adminCall(latch, 'POST', '/reload')).status).toBe(200)
    // While it drains, the removed endpoint still serves its sessions.
    expect((await client.visit(latch.url, agent)).upstream).toBe(home)
    await waitFor(async () => ((await adminCall(latch, 'GET', '/pools')).body as { pools: { endpoints: unknown[] }[] }).pools[0]?.endpoints.length === 1, 5000, 50, 'the removed endpoint to finish draining')
    const moved = await client.visit(latch.url, agent)
    expect([moved.status, moved.upstream, moved.affinity]).toEqual([200, other.name, 'rebound'])
    expect((await client.visit(latch.url, agent)).affinity).toBe('hit')
  })
})
