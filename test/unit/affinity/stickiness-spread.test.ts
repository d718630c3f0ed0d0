/**
 * Acceptance, at full size over the real policy and affinity objects (no network): 1,000 simulated
 * clients × 20 requests over 5 endpoints in every mode (cookie, header, client-ip, hash, learn) with
 * round-robin and least-sessions. Every client stays on one endpoint while it is healthy; new sessions
 * are spread within ±15 % of even. Then the endpoint holding a fifth of the sessions goes down: each
 * of its sessions moves exactly once, no other session moves, and once it is back the moved sessions
 * stay put (not in `hash` mode, which is stateless by design: its keys return to their endpoint).
 *
 * The same properties are shown through the real CLI with real upstreams in
 * test/integration/affinity-stickiness.test.ts (full size for cookie and client-ip there).
 */
import { Buffer } from 'node:buffer'
import { afterEach, describe, expect, it } from 'vitest'
import type { AffinityConfig } from '../../../src/config/affinity-schema.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import type { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { affinityPool, affinityRequest, closeAll, endpointUrls, headerOf, maxDeviation, serveNow, setCookieOf, type ClientRequest, affinityOf } from './affinity-fixtures.js'

const CLIENTS = 1000
const REQUESTS = 20
const ENDPOINTS = 5

type Mode = Exclude<AffinityConfig['mode'], 'none'>

/** One simulated client: what it sends, updated from what it receives. */
interface Client {
  readonly index: number
  cookie: string | undefined
  token: string | undefined
  appSession: string | undefined
  endpoints: string[]
}

function requestOf(mode: Mode, client: Client): ClientRequest {
  const clientIp = `10.${Math.floor(client.index / 250)}.${client.index % 250}.7`
  switch (mode) {
    case 'cookie':
      return client.cookie === undefined ? {} : { cookie: client.cookie }
    case 'header':
      return client.token === undefined ? {} : { headers: { 'X-Latch-Session': client.token } }
    case 'client-ip':
    case 'hash':
      return { clientIp }
    case 'learn':
      return client.appSession === undefined ? {} : { cookie: `JSESSIONID=${client.appSession}` }
  }
}

/** One request of `client`; returns the endpoint that served it. */
function visit(pool: UpstreamPool, mode: Mode, client: Client): Endpoint {
  const request = requestOf(mode, client)
  const served = serveNow(pool, request)
  const endpoint = served.endpoint as Endpoint
  expect(endpoint, `client ${client.index} was served`).toBeDefined()
  const cookie = setCookieOf(served.headers)
  if (cookie !== undefined) client.cookie = cookie
  const token = headerOf(served.headers, 'x-latch-session')
  if (token !== undefined) client.token = token
  if (mode === 'learn' && client.appSession === undefined) {
    // The application sets its own session cookie on the first response; Latch learns it.
    const id = `app-${client.index}-${endpoint.id}`
    affinityOf(pool)?.learn?.([Buffer.from('Set-Cookie'), Buffer.from(`JSESSIONID=${id}; Path=/; HttpOnly`)], undefined, endpoint, affinityRequest(request))
    client.appSession = id
  }
  client.endpoints.push(endpoint.id)
  return endpoint
}

function distinct(values: readonly string[]): string[] {
  return [...new Set(values)]
}

const MODES: readonly Mode[] = ['cookie', 'header', 'client-ip', 'hash', 'learn']

describe('stickiness and spread, 1,000 clients × 20 requests over 5 endpoints', () => {
  afterEach(closeAll)

  for (const mode of MODES) {
    for (const balance of ['round-robin', 'least-sessions'] as const) {
      it(`${mode} / ${balance}: every client stays on one endpoint; new sessions within ±15 % of even; failover moves exactly the dead endpoint's sessions, once`, () => {
        const { pool } = affinityPool({ endpoints: endpointUrls(ENDPOINTS), balance, affinity: { mode, learn: { name: 'JSESSIONID' } } })
        const clients: Client[] = Array.from({ length: CLIENTS }, (_, index) => ({ index, cookie: undefined, token: undefined, appSession: undefined, endpoints: [] }))
        // Requests interleave across clients (round r: every client sends its r-th request).
        for (let round = 0; round < REQUESTS; round++) for (const client of clients) visit(pool, mode, client)

        for (const client of clients) expect(distinct(client.endpoints), `client ${client.index}`).toHaveLength(1)
        const home = new Map(clients.map((client) => [client, client.endpoints[0] as string]))
        const perEndpoint = pool.endpoints.map((endpoint) => clients.filter((client) => home.get(client) === endpoint.id).length)
        // hash spreads by key, not by the policy: its ±15 % over 10,000 keys is in rendezvous.test.ts.
        if (process.env.AFFINITY_FIGURES !== undefined) console.info(`${mode}/${balance}: sessions per endpoint ${perEndpoint.join(', ')} (max deviation ${(maxDeviation(perEndpoint) * 100).toFixed(1)} %)`)
        if (mode !== 'hash') expect(maxDeviation(perEndpoint), `new sessions per endpoint: ${perEndpoint.join(', ')}`).toBeLessThanOrEqual(0.15)
        else expect(Math.min(...perEndpoint)).toBeGreaterThan(0)

        // The endpoint with the most sessions (about a fifth) goes down (ejected by passive health).
        const victim = pool.endpoints[perEndpoint.indexOf(Math.max(...perEndpoint))] as Endpoint
        victim.setEjectedUntil(Date.now() + 60_000, 'test: killed')
        const affected = clients.filter((client) => home.get(client) === victim.id)
        const before = new Map(clients.map((client) => [client, client.endpoints.length]))
        for (let round = 0; round < 5; round++) for (const client of clients) visit(pool, mode, client)
        for (const client of clients) {
          const after = client.endpoints.slice(before.get(client))
          if (home.get(client) !== victim.id) {
            expect(distinct(after), `unaffected client ${client.index} moved`).toEqual([home.get(client)])
          } else {
            // Moved exactly once: every later request lands on one new endpoint.
            expect(distinct(after), `affected client ${client.index}`).toHaveLength(1)
            expect(after[0]).not.toBe(victim.id)
          }
        }
        expect(affected.length).toBeGreaterThan(CLIENTS / ENDPOINTS / 2)

        // The endpoint returns: moved sessions stay where they are (hash keys go back: stateless).
        victim.setEjectedUntil(0, 'test: back')
        const moved = new Map(affected.map((client) => [client, client.endpoints.at(-1) as string]))
        const mark = new Map(clients.map((client) => [client, client.endpoints.length]))
        for (let round = 0; round < 3; round++) for (const client of clients) visit(pool, mode, client)
        for (const client of clients) {
          const after = distinct(client.endpoints.slice(mark.get(client)))
          const expected = moved.has(client) && mode !== 'hash' ? moved.get(client) : home.get(client)
          expect(after, `client ${client.index} after the endpoint returned`).toEqual([expected])
        }
      })
    }
  }

  it('onUnavailable: fail refuses the sessions of an unavailable endpoint and keeps them bound to it', () => {
    const { pool } = affinityPool({ endpoints: endpointUrls(ENDPOINTS), affinity: { mode: 'cookie', onUnavailable: 'fail' } })
    const clients: Client[] = Array.from({ length: 100 }, (_, index) => ({ index, cookie: undefined, token: undefined, appSession: undefined, endpoints: [] }))
    for (const client of clients) visit(pool, 'cookie', client)
    const victim = pool.endpoints[0] as Endpoint
    victim.setEjectedUntil(Date.now() + 60_000, 'test: killed')
    for (const client of clients) {
      const served = serveNow(pool, requestOf('cookie', client))
      if (client.endpoints[0] === victim.id) {
        expect(served.refused).toBe(true)
        expect(served.headers).toEqual([])
      } else {
        expect(served.endpoint?.id).toBe(client.endpoints[0])
      }
    }
    victim.setEjectedUntil(0, 'test: back')
    for (const client of clients) expect(serveNow(pool, requestOf('cookie', client)).endpoint?.id).toBe(client.endpoints[0])
  })
})
