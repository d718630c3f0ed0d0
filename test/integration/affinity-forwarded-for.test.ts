/**
 * `client-ip` and `hash` affinity use the client address resolved through `trustedProxies`, through
 * the real CLI: from an untrusted peer, `X-Forwarded-For` and `Forwarded` are the client's own claims
 * and never change the endpoint; from a trusted peer, the right-most address that is not itself a
 * trusted proxy decides (so a spoofed left-most entry does not).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../helpers/http-client.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

/** The front proxy: requests from this address are trusted; those from 127.0.0.1 are not. */
const TRUSTED_PEER = '127.0.0.2'
const CLIENTS = ['203.0.113.1', '203.0.113.2', '203.0.113.3', '198.51.100.4', '198.51.100.5', '192.0.2.6', '192.0.2.7', '100.64.0.8', '2001:db8::9', '2001:db8:1::10']

let upstreams: TestUpstream[]
let latch: LatchProcess

beforeAll(async () => {
  upstreams = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => startUpstream(name)))
  const urls = upstreams.map((upstream) => upstream.url)
  const prefix = (path: string, pool: string): object => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      log: { level: 'info', access: 'stdout' },
      // The front proxy and an internal hop range.
      trustedProxies: [`${TRUSTED_PEER}/32`, '10.0.0.0/8'],
      pools: [
        { name: 'ip', endpoints: urls, affinity: { mode: 'client-ip', responseHeader: true } },
        { name: 'hash', endpoints: urls, affinity: { mode: 'hash', hash: { key: 'client-ip' }, responseHeader: true } },
      ],
      routes: { rules: [{ http: { paths: [prefix('/ip', 'ip'), prefix('/hash', 'hash')] } }] },
    },
  })
})

afterAll(async () => {
  await latch.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
})

async function endpointFor(pool: 'ip' | 'hash', headers: Record<string, string>, localAddress = '127.0.0.1'): Promise<string> {
  const response = await send({ port: latch.port, path: `/${pool}/x`, headers, localAddress })
  expect(response.status).toBe(200)
  return String(response.headers['x-upstream'])
}

const spoofs: Record<string, string>[] = [
  ...CLIENTS.map((client) => ({ 'x-forwarded-for': client })),
  ...CLIENTS.map((client) => ({ 'x-forwarded-for': `${client}, 10.1.2.3` })),
  ...CLIENTS.map((client) => ({ forwarded: `for=${client.includes(':') ? `"[${client}]"` : client}` })),
  { 'x-forwarded-for': '127.0.0.2' },
  { 'x-real-ip': '203.0.113.99', 'x-forwarded-for': 'garbage' },
]

describe.each(['ip', 'hash'] as const)('%s mode', (pool) => {
  it('from an untrusted peer, no X-Forwarded-For or Forwarded value changes the endpoint', async () => {
    // 127.0.0.3 is an untrusted peer no other test uses, so its client-ip binding is made here.
    const own = await endpointFor(pool, {}, '127.0.0.3')
    const seen = new Set<string>()
    for (const headers of spoofs) seen.add(await endpointFor(pool, headers, '127.0.0.3'))
    expect([...seen]).toEqual([own])
    const line = await waitFor(() => accessLines(latch).findLast((entry) => entry.pool === pool && entry.clientIp === '127.0.0.3'), 5000, 20, 'access line')
    expect(line.clientIp).toBe('127.0.0.3')
    expect(accessLines(latch).filter((entry) => entry.pool === pool).every((entry) => !CLIENTS.includes(String(entry.clientIp)))).toBe(true)
  })

  it('from a trusted peer, the right-most untrusted address decides; spoofed left-most entries and trusted hops do not', async () => {
    const chosen = new Map<string, string>()
    for (const client of CLIENTS) chosen.set(client, await endpointFor(pool, { 'x-forwarded-for': client }, TRUSTED_PEER))
    // The forwarded addresses are real client identities here: they spread over the endpoints.
    expect(new Set(chosen.values()).size).toBeGreaterThan(1)
    for (const client of CLIENTS) {
      const expected = chosen.get(client)
      const bracketed = client.includes(':') ? `"[${client}]"` : client
      const variants: Record<string, string>[] = [
        { 'x-forwarded-for': client },
        { 'x-forwarded-for': `6.6.6.6, ${client}` },
        { 'x-forwarded-for': `6.6.6.6, 7.7.7.7, ${client}, 10.9.8.7` },
        { 'x-forwarded-for': `${client}, 10.0.0.1, 10.0.0.2` },
        { forwarded: `for=6.6.6.6, for=${bracketed}` },
        { forwarded: `for=${bracketed};proto=https, for=10.3.3.3` },
      ]
      for (const headers of variants) expect({ client, headers, endpoint: await endpointFor(pool, headers, TRUSTED_PEER) }).toEqual({ client, headers, endpoint: expected })
    }
    await waitFor(() => accessLines(latch).some((entry) => entry.pool === pool && entry.clientIp === '2001:db8::9'), 5000, 20, 'IPv6 client in the access log')
  })
})
