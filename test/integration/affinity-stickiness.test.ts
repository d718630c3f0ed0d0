/**
 * Acceptance through the real CLI and real upstreams: simulated clients over 5 endpoints in every
 * affinity mode; every client stays on one endpoint while it is healthy, and new sessions are spread
 * within ±15 % of even (round-robin and least-sessions).
 *
 * Full size in every mode: 1,000 clients × 20 requests (20,000 requests per mode, 32 at a time over
 * one keep-alive agent; about 3 s per mode). Each mode's pool uses one of the two policies (cookie,
 * hash, learn: round-robin; client-ip, header: least-sessions); client-ip clients come through a
 * trusted proxy (X-Forwarded-For from 127.0.0.1 with `trustedProxies`). Every mode with both
 * policies, and failover, is also shown over the real policy and affinity objects in
 * test/unit/affinity/stickiness-spread.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from 'undici'
import { scrapeMetrics } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { samplesOf } from '../helpers/prometheus-text.js'
import { appSessionMode, clientAgent, distinct, maxDeviation, runClients, sessionClients, type SessionClient, type SessionMode } from '../helpers/session-clients.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const NAMES = ['a', 'b', 'c', 'd', 'e']

/** Pool per mode: name, path prefix, balancing policy, affinity options. */
const POOLS: readonly { mode: SessionMode; balance: 'round-robin' | 'least-sessions'; affinity: Record<string, unknown> }[] = [
  { mode: 'cookie', balance: 'round-robin', affinity: { mode: 'cookie' } },
  { mode: 'client-ip', balance: 'least-sessions', affinity: { mode: 'client-ip' } },
  { mode: 'header', balance: 'least-sessions', affinity: { mode: 'header' } },
  { mode: 'hash', balance: 'round-robin', affinity: { mode: 'hash', hash: { key: 'client-ip' } } },
  { mode: 'learn', balance: 'round-robin', affinity: { mode: 'learn', learn: { source: 'cookie', name: 'connect.sid' } } },
]

const poolName = (mode: SessionMode): string => mode.replace('-', '')

describe('stickiness and spread through the real CLI, 1,000 clients × 20 requests over 5 endpoints', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  let agent: Agent

  beforeAll(async () => {
    upstreams = await Promise.all(NAMES.map((name) => startUpstream(name, { mode: appSessionMode(name) })))
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'off' },
        sessionSecrets: ['stickiness-test-secret-0123456789'],
        trustedProxies: ['127.0.0.1/32'],
        pools: POOLS.map(({ mode, balance, affinity }) => ({ name: poolName(mode), balance, endpoints: upstreams.map((upstream) => upstream.url), affinity: { responseHeader: true, ...affinity } })),
        routes: { rules: [{ http: { paths: POOLS.map(({ mode }) => ({ path: `/${poolName(mode)}`, pathType: 'Prefix', backend: { service: { name: poolName(mode) } } })) } }] },
      },
    })
    agent = clientAgent(32)
  })

  afterAll(async () => {
    await latch?.stop()
    await agent?.close()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  })

  /** Runs the clients, then checks stickiness and (unless hash) the spread of new sessions. */
  async function check(mode: SessionMode, requests: number): Promise<{ clients: SessionClient[]; perEndpoint: number[] }> {
    const clients = sessionClients(1000, mode)
    await runClients(clients, latch.url, { requests, concurrency: 32, agent, path: `/${poolName(mode)}/page` })
    for (const client of clients) {
      expect(client.visits.every((visit) => visit.status === 200), `client ${client.index} statuses`).toBe(true)
      expect(distinct(client.upstreams), `client ${client.index} endpoints`).toHaveLength(1)
    }
    const perEndpoint = NAMES.map((name) => clients.filter((client) => client.upstreams[0] === name).length)
    console.info(`${mode}: ${clients.length} clients × ${requests} requests, sessions per endpoint ${perEndpoint.join(', ')} (max deviation ${(maxDeviation(perEndpoint) * 100).toFixed(1)} %)`)
    return { clients, perEndpoint }
  }

  it('cookie (round-robin), 1,000 × 20: one endpoint per client, sessions within ±15 % of even; one Set-Cookie per session', async () => {
    const { clients, perEndpoint } = await check('cookie', 20)
    expect(maxDeviation(perEndpoint)).toBeLessThanOrEqual(0.15)
    for (const client of clients) {
      expect(client.visits.map((visit) => visit.affinity)).toEqual(['new', ...Array.from({ length: 19 }, () => 'hit')])
      // No idleTimeout: the token is issued once and never rewritten.
      expect(client.visits.filter((visit) => visit.newBinding !== undefined)).toHaveLength(1)
    }
  })

  it('client-ip (least-sessions, trusted X-Forwarded-For), 1,000 × 20: one endpoint per client address, within ±15 % of even', async () => {
    const { clients, perEndpoint } = await check('client-ip', 20)
    expect(maxDeviation(perEndpoint)).toBeLessThanOrEqual(0.15)
    for (const client of clients) expect(client.visits[0]?.affinity).toBe('new')
    for (const client of clients) expect(distinct(client.visits.slice(1).map((visit) => visit.affinity))).toEqual(['hit'])
  })

  it('header (least-sessions), 1,000 × 20: one endpoint per token, within ±15 % of even', async () => {
    const { perEndpoint } = await check('header', 20)
    expect(maxDeviation(perEndpoint)).toBeLessThanOrEqual(0.15)
  })

  it('hash on the client address, 1,000 × 20: one endpoint per address, every endpoint used', async () => {
    const { perEndpoint } = await check('hash', 20)
    // Spread of a hash is the hash's (rendezvous.test.ts: ±15 % over 10,000 keys), not the policy's.
    expect(Math.min(...perEndpoint)).toBeGreaterThan(100)
  })

  it('learn (connect.sid, round-robin), 1,000 × 20: requests carrying the app session go where it was set, within ±15 % of even', async () => {
    const { clients, perEndpoint } = await check('learn', 20)
    expect(maxDeviation(perEndpoint)).toBeLessThanOrEqual(0.15)
    for (const client of clients) {
      // The first response set the app's cookie; later requests carry it and never get a new one.
      expect(client.visits[0]?.newBinding).toBeDefined()
      expect(client.visits.slice(1).every((visit) => visit.newBinding === undefined)).toBe(true)
    }
  })

  it('counts every outcome in latch_affinity_requests_total{pool,mode,outcome}', async () => {
    const { families } = await scrapeMetrics(latch)
    const value = (pool: string, outcome: string): number => samplesOf(families, 'latch_affinity_requests_total', { pool, outcome })[0]?.value ?? 0
    expect(value('cookie', 'new')).toBe(1000)
    expect(value('cookie', 'hit')).toBe(19_000)
    expect(value('clientip', 'new')).toBe(1000)
    expect(value('clientip', 'hit')).toBe(19_000)
    expect(value('header', 'new')).toBe(1000)
    expect(value('header', 'hit')).toBe(19_000)
    expect(value('hash', 'hit')).toBe(20_000)
    // learn: the first request carries no app session yet (balanced, no outcome); the rest hit.
    expect(value('learn', 'hit')).toBe(19_000)
    for (const pool of ['cookie', 'clientip', 'header', 'hash', 'learn']) {
      for (const outcome of ['rebound', 'invalid', 'expired', 'unavailable']) expect(value(pool, outcome), `${pool} ${outcome}`).toBe(0)
    }
    const bound = samplesOf(families, 'latch_endpoint_bound_sessions', { pool: 'cookie' })
    expect(bound.reduce((sum, sample) => sum + sample.value, 0)).toBe(1000)
  })
})
