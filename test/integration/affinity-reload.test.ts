/**
 * Acceptance through the real CLI and real upstreams, around hot reloads and time:
 * - `client-ip`: adding endpoints (config file rewritten + SIGHUP) moves no live binding; new
 *   clients (least-sessions) go to the new endpoints; the sliding `timeout` (2 s) expires an idle
 *   binding and not an active one.
 * - `hash`: adding a 6th endpoint to 5 (POST /reload) remaps at most 1/6 + 2 % of 10,000 keys, all
 *   of them to the new endpoint; removing one remaps only that endpoint's keys. (The exact property
 *   on fixed endpoint ids is in test/unit/affinity/hash-affinity.test.ts; here ports are random, so
 *   10,000 keys keep the 2 % tolerance above five standard deviations.)
 */
import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { stringify } from 'yaml'
import { adminCall } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { clientAgent, distinct, runClients, sessionClients, type SessionClient } from '../helpers/session-clients.js'
import { sleep } from '../helpers/traffic.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'g']

describe('affinity across reloads and sliding timeouts', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  let agent: Agent

  /** The config with the client-ip pool over `ipCount` endpoints and the hash pool over `hashEndpoints`. */
  function config(ipCount: number, hashEndpoints: readonly TestUpstream[]): object {
    return {
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0' },
      shutdown: { drainDelay: '0s', drainTimeout: '3s' },
      reload: { watch: false },
      log: { level: 'info', access: 'off' },
      trustedProxies: ['127.0.0.1/32'],
      pools: [
        { name: 'clientip', balance: 'least-sessions', endpoints: upstreams.slice(0, ipCount).map((upstream) => upstream.url), affinity: { mode: 'client-ip', responseHeader: true } },
        { name: 'sliding', endpoints: upstreams.slice(0, 5).map((upstream) => upstream.url), affinity: { mode: 'client-ip', responseHeader: true, clientIp: { timeout: '2s' } } },
        { name: 'hash', endpoints: hashEndpoints.map((upstream) => upstream.url), drainTimeout: '100ms', affinity: { mode: 'hash', responseHeader: true, hash: { key: 'client-ip' } } },
      ],
      routes: {
        rules: [{ http: { paths: ['clientip', 'sliding', 'hash'].map((name) => ({ path: `/${name}`, pathType: 'Prefix', backend: { service: { name } } })) } }],
      },
    }
  }

  async function reload(next: object, how: 'signal' | 'admin'): Promise<void> {
    writeFileSync(latch.configFile as string, stringify(next))
    if (how === 'admin') {
      const reply = await adminCall(latch, 'POST', '/reload')
      expect(reply.status, JSON.stringify(reply.body)).toBe(200)
      return
    }
    const before = latch.logs.filter((line) => line.msg === 'config reloaded').length
    latch.child.kill('SIGHUP')
    await waitFor(() => latch.logs.filter((line) => line.msg === 'config reloaded').length > before, 5000, 20, 'SIGHUP reload')
  }

  beforeAll(async () => {
    upstreams = await Promise.all(NAMES.map((name) => startUpstream(name)))
    latch = await startLatch({ config: config(5, upstreams.slice(0, 5)) })
    agent = clientAgent(32)
  })

  afterAll(async () => {
    await latch?.stop()
    await agent?.close()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  })

  it('client-ip: adding two endpoints by SIGHUP reload moves no live binding; new clients fill the new endpoints', async () => {
    const clients = sessionClients(500, 'client-ip')
    await runClients(clients, latch.url, { requests: 2, agent, path: '/clientip/x' })
    const home = new Map(clients.map((client) => [client, client.upstreams[0] as string]))
    await reload(config(7, upstreams.slice(0, 5)), 'signal')
    await runClients(clients, latch.url, { requests: 3, agent, path: '/clientip/x' })
    for (const client of clients) {
      expect(distinct(client.visits.map((visit) => `${visit.status} ${visit.upstream}`)), `client ${client.index}`).toEqual([`200 ${home.get(client)}`])
      expect(distinct(client.visits.slice(1).map((visit) => visit.affinity))).toEqual(['hit'])
    }
    const newcomers = sessionClients(150, 'client-ip', 1000)
    await runClients(newcomers, latch.url, { requests: 2, agent, path: '/clientip/x' })
    for (const client of newcomers) expect(distinct(client.upstreams)).toHaveLength(1)
    // least-sessions: the new endpoints start with none (the old ones have 100 each), so they take
    // every new session until they catch up.
    expect(newcomers.filter((client) => ['f', 'g'].includes(client.upstreams[0] as string)).length).toBe(150)
  })

  it('client-ip: the sliding timeout (2 s) expires an idle binding and not an active one', async () => {
    const [active, idle] = sessionClients(2, 'client-ip', 3000) as [SessionClient, SessionClient]
    await active.visit(latch.url, agent, '/sliding/x')
    await idle.visit(latch.url, agent, '/sliding/x')
    expect([active.visits[0]?.affinity, idle.visits[0]?.affinity]).toEqual(['new', 'new'])
    // The active client comes back every 400 ms for 4 s — twice the timeout — and always hits.
    for (let step = 0; step < 10; step++) {
      await sleep(400)
      await active.visit(latch.url, agent, '/sliding/x')
    }
    expect(distinct(active.visits.slice(1).map((visit) => `${visit.upstream} ${visit.affinity}`))).toEqual([`${active.upstreams[0]} hit`])
    // The idle one has not been seen for 4 s: its binding is gone, the next request is a new session.
    await idle.visit(latch.url, agent, '/sliding/x')
    expect(idle.visits[1]?.affinity).toBe('new')
  })

  it('hash: adding a 6th endpoint to 5 remaps ≤ 1/6 + 2 % of 10,000 keys, all to the new one; removing one remaps only its keys', async () => {
    const keys = sessionClients(10_000, 'hash', 20_000)
    await runClients(keys, latch.url, { requests: 1, concurrency: 32, agent, path: '/hash/k' })
    const before = keys.map((client) => client.upstreams[0] as string)
    await reload(config(7, upstreams.slice(0, 6)), 'admin')
    await runClients(keys, latch.url, { requests: 1, concurrency: 32, agent, path: '/hash/k' })
    const added = keys.map((client) => client.upstreams[1] as string)
    const remapped = keys.filter((_, index) => before[index] !== added[index])
    console.info(`hash through reload: adding a 6th endpoint remapped ${remapped.length} of 10,000 keys (${(remapped.length / 100).toFixed(2)} %)`)
    expect(remapped.length / keys.length).toBeLessThanOrEqual(1 / 6 + 0.02)
    expect(distinct(remapped.map((client) => client.upstreams[1]))).toEqual(['f'])
    // Remove `b`: only b's keys move.
    await reload(config(7, upstreams.filter((upstream) => upstream.name !== 'b').slice(0, 5)), 'admin')
    await runClients(keys, latch.url, { requests: 1, concurrency: 32, agent, path: '/hash/k' })
    let moved = 0
    keys.forEach((client, index) => {
      const now = client.upstreams[2] as string
      if (added[index] === 'b') {
        moved++
        expect(now).not.toBe('b')
      } else {
        expect(now, `key ${client.index}`).toBe(added[index])
      }
    })
    console.info(`hash through reload: removing one of 6 endpoints moved ${moved} keys, all of them its own`)
    expect(moved).toBeGreaterThan(1000)
    for (const client of keys) expect(client.visits.every((visit) => visit.status === 200)).toBe(true)
  })
})
