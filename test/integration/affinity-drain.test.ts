/**
 * Acceptance through the real CLI and real upstreams: an endpoint drained through the admin API
 * (`POST /pools/{pool}/endpoints/{id}/drain`) keeps serving its bound sessions, takes no new one, and
 * the live bound-session count the admin API (`GET /pools`, `sessions` per endpoint) and metrics
 * (`latch_endpoint_bound_sessions`) report for it falls to zero as its sessions expire (short
 * `idleTimeout` / `timeout`), so a Pod's preStop hook can wait for zero.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { adminCall, endpointAction, scrapeMetrics } from '../helpers/admin-client.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { valueOf } from '../helpers/prometheus-text.js'
import { clientAgent, distinct, runClients, sessionClients, type SessionClient, type SessionMode } from '../helpers/session-clients.js'
import { sleep } from '../helpers/traffic.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const NAMES = ['a', 'b', 'c', 'd', 'e']
const IDLE = '5s'

interface Group {
  readonly pool: string
  readonly mode: SessionMode
  readonly clients: SessionClient[]
  readonly home: Map<SessionClient, string>
}

describe('drain through the admin API with sticky sessions', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  let agent: Agent
  let drained: TestUpstream
  const groups: Group[] = [
    { pool: 'cookie', mode: 'cookie', clients: sessionClients(200, 'cookie'), home: new Map() },
    { pool: 'clientip', mode: 'client-ip', clients: sessionClients(200, 'client-ip'), home: new Map() },
  ]
  const id = (upstream: TestUpstream): string => `127.0.0.1:${upstream.port}`

  async function sessionsOf(pool: string): Promise<Record<string, number>> {
    const reply = await adminCall(latch, 'GET', '/pools')
    const found = (reply.body.pools as { name: string; endpoints: { id: string; sessions: number }[] }[]).find((candidate) => candidate.name === pool)
    return Object.fromEntries((found?.endpoints ?? []).map((endpoint) => [endpoint.id, endpoint.sessions]))
  }

  beforeAll(async () => {
    upstreams = await Promise.all(NAMES.map((name) => startUpstream(name)))
    const endpoints = upstreams.map((upstream) => upstream.url)
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'stdout' },
        sessionSecrets: ['drain-test-secret-0123456789abcdef'],
        trustedProxies: ['127.0.0.1/32'],
        pools: [
          { name: 'cookie', endpoints, affinity: { mode: 'cookie', responseHeader: true, cookie: { idleTimeout: IDLE } } },
          { name: 'clientip', endpoints, affinity: { mode: 'client-ip', responseHeader: true, clientIp: { timeout: IDLE } } },
        ],
        routes: { rules: [{ http: { paths: groups.map(({ pool }) => ({ path: `/${pool}`, pathType: 'Prefix', backend: { service: { name: pool } } })) } }] },
      },
    })
    agent = clientAgent(32)
    drained = upstreams[2] as TestUpstream
  })

  afterAll(async () => {
    await latch?.stop()
    await agent?.close()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  })

  it('reports live bound sessions per endpoint in GET /pools and latch_endpoint_bound_sessions', async () => {
    await Promise.all(groups.map(({ pool, clients }) => runClients(clients, latch.url, { requests: 2, agent, path: `/${pool}/x` })))
    for (const { pool, clients, home } of groups) {
      for (const client of clients) home.set(client, client.upstreams[0] as string)
      const sessions = await sessionsOf(pool)
      const { families } = await scrapeMetrics(latch)
      for (const upstream of upstreams) {
        const bound = clients.filter((client) => home.get(client) === upstream.name).length
        expect(sessions[id(upstream)], `${pool} ${upstream.name}`).toBe(bound)
        expect(valueOf(families, 'latch_endpoint_bound_sessions', { pool, endpoint: id(upstream) })).toBe(bound)
      }
    }
  })

  it('a drained endpoint keeps its bound sessions and takes no new one', async () => {
    for (const { pool } of groups) await endpointAction(latch, pool, id(drained), 'drain')
    const newcomers = groups.map(({ pool, mode }) => ({ pool, clients: sessionClients(100, mode, 5000) }))
    // Bound sessions keep coming for a while (inside the idle timeout), new sessions arrive meanwhile.
    for (let round = 0; round < 3; round++) {
      await Promise.all(groups.map(({ pool, clients }) => runClients(clients, latch.url, { requests: 1, agent, path: `/${pool}/x` })))
      await sleep(300)
    }
    await Promise.all(newcomers.map(({ pool, clients }) => runClients(clients, latch.url, { requests: 2, agent, path: `/${pool}/x` })))
    for (const { pool, clients, home } of groups) {
      const bound = clients.filter((client) => home.get(client) === drained.name)
      expect(bound.length, pool).toBeGreaterThan(20)
      for (const client of clients) {
        expect(distinct(client.visits.map((visit) => `${visit.status} ${visit.upstream}`)), `${pool} client ${client.index}`).toEqual([`200 ${home.get(client)}`])
        expect(distinct(client.visits.slice(1).map((visit) => visit.affinity))).toEqual(['hit'])
      }
      const sessions = await sessionsOf(pool)
      expect(sessions[id(drained)], pool).toBe(bound.length)
    }
    for (const { pool, clients } of newcomers) {
      for (const client of clients) {
        expect(client.visits.every((visit) => visit.status === 200), pool).toBe(true)
        expect(client.upstreams, `${pool} newcomer ${client.index}`).not.toContain(drained.name)
        expect(distinct(client.upstreams)).toHaveLength(1)
      }
    }
  })

  it('the bound-session count of the drained endpoint falls to zero as its sessions expire; their next request starts a session elsewhere', async () => {
    const drainedOnes = groups.map(({ pool, clients, home }) => ({ pool, clients: clients.filter((client) => home.get(client) === drained.name) }))
    // Everybody else stays active; the drained endpoint's sessions go idle.
    const others = groups.map(({ pool, clients, home }) => ({ pool, clients: clients.filter((client) => home.get(client) !== drained.name) }))
    let active = true
    const keepOthersBusy = (async () => {
      while (active) {
        await Promise.all(others.map(({ pool, clients }) => runClients(clients, latch.url, { requests: 1, agent, path: `/${pool}/x` })))
        await sleep(200)
      }
    })()
    for (const { pool } of groups) {
      await waitFor(async () => ((await sessionsOf(pool))[id(drained)] === 0 ? true : undefined), 8000, 200, `${pool}: no live session on the drained endpoint`)
    }
    const { families } = await scrapeMetrics(latch)
    for (const { pool } of groups) expect(valueOf(families, 'latch_endpoint_bound_sessions', { pool, endpoint: id(drained) })).toBe(0)
    active = false
    await keepOthersBusy
    // Sessions kept alive elsewhere are still counted.
    for (const { pool, clients } of others) {
      const sessions = await sessionsOf(pool)
      expect(Object.values(sessions).reduce((sum, count) => sum + count, 0), pool).toBeGreaterThanOrEqual(clients.length)
    }
    // The idle sessions expired: their next request is a new session (cookie: `expired`), never on the drained endpoint.
    for (const { pool, clients } of drainedOnes) {
      for (const client of clients) client.visits.length = 0
      await runClients(clients, latch.url, { requests: 2, agent, path: `/${pool}/x` })
      for (const client of clients) {
        expect(client.upstreams, `${pool} client ${client.index}`).not.toContain(drained.name)
        expect(distinct(client.upstreams)).toHaveLength(1)
        expect(client.visits[0]?.affinity).toBe(pool === 'cookie' ? 'expired' : 'new')
      }
    }
  })

  it('writes the affinity outcome in the access log, as in X-Latch-Affinity', async () => {
    const seen = await waitFor(() => {
      const outcomes = new Set(accessLines(latch).filter((line) => line.pool === 'cookie').map((line) => line.affinity))
      return ['new', 'hit', 'expired'].every((outcome) => outcomes.has(outcome)) ? outcomes : undefined
    }, 5000, 50, 'access lines with affinity outcomes')
    expect([...seen].sort()).toEqual(['expired', 'hit', 'new'])
  })
})
