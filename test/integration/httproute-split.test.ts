/**
 * HTTPRoute weighted backendRefs and GEP-1619 sessionPersistence through the real CLI and real
 * upstreams (conformance: HTTPRouteWeight, HTTPRouteSessionPersistence* — expressed for a proxy
 * without a control plane). Upstreams a*, b*, c* serve pools a, b, c.
 *
 * - weights: 10,000 requests at 90/10 within ±1.5 points; weight 0 gets nothing; 50/30/20 likewise;
 * - sticky canary with rule-level cookie sessions: 1,000 clients at 10 %, reload to 50 % then 90 %:
 *   no live session changes backend, new clients follow the new weights within ±3 points;
 * - GEP-1619: absoluteTimeout ends a busy session; idleTimeout ends an idle one, not a busy one;
 *   Permanent cookies carry Max-Age = absoluteTimeout, Session cookies none; Header type returns the
 *   token in sessionName and honours it; a forged token is treated as absent.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { cookieClients, firstShare, movedClients, reloadBySignal, sharePercent, splitRoute, tallyUpstreams } from '../helpers/canary-traffic.js'
import { adminCall } from '../helpers/admin-client.js'
import { send } from '../helpers/http-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { runClients } from '../helpers/session-clients.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const COOKIE = { type: 'Cookie', sessionName: 'shop', absoluteTimeout: '1h', cookieConfig: { lifetimeType: 'Permanent' } }

function routes(stickyCanary: number): string {
  return [
    splitRoute('ninety', '/ninety', { a: 90, b: 10 }),
    splitRoute('zero', '/zero', { a: 1, b: 0 }),
    splitRoute('three', '/three', { a: 50, b: 30, c: 20 }),
    splitRoute('sticky', '/sticky', { a: 100 - stickyCanary, b: stickyCanary }, COOKIE),
    splitRoute('absolute', '/absolute', { a: 1, b: 1 }, { type: 'Cookie', sessionName: 'abs', absoluteTimeout: '3s' }),
    splitRoute('idle', '/idle', { a: 1, b: 1 }, { type: 'Cookie', cookie: { name: 'idle', lifetimeType: 'Session' }, idleTimeout: '2s' }),
    splitRoute('header', '/header', { a: 1, b: 1 }, { type: 'Header', header: { name: 'X-Shop-Session' } }),
  ].map((doc) => stringify(doc)).join('---\n')
}

let upstreams: TestUpstream[]
let latch: LatchProcess
let dir: string
let agent: Agent

beforeAll(async () => {
  upstreams = await Promise.all(['a1', 'a2', 'b1', 'b2', 'c1'].map((name) => startUpstream(name)))
  const url = (name: string): string => (upstreams.find((upstream) => upstream.name === name) as TestUpstream).url
  dir = mkdtempSync(join(tmpdir(), 'latch-split-'))
  writeFileSync(join(dir, 'routes.yaml'), routes(10))
  writeFileSync(join(dir, 'latch.yaml'), stringify({
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'info', access: 'off' },
    reload: { watch: false },
    shutdown: { drainDelay: '0s', drainTimeout: '3s' },
    sessionSecrets: ['split-test-secret-0123456789abcd'],
    pools: [
      { name: 'a', endpoints: [url('a1'), url('a2')], affinity: { responseHeader: true } },
      { name: 'b', endpoints: [url('b1'), url('b2')], affinity: { responseHeader: true } },
      { name: 'c', endpoints: [url('c1')], affinity: { responseHeader: true } },
    ],
    routes: 'routes.yaml',
  }))
  latch = await startLatch({ args: ['--config', join(dir, 'latch.yaml')] })
  agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 })
})

afterAll(async () => {
  await agent?.close()
  await latch?.stop()
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
})

describe('HTTPRoute weighted backendRefs (HTTPRouteWeight)', () => {
  it('90/10 over 10,000 requests within ±1.5 points', async () => {
    const counts = await tallyUpstreams(latch.url, '/ninety', 10_000, { agent })
    console.info(`HTTPRoute 90/10: ${sharePercent(counts, 'b').toFixed(2)} % of 10,000 to the weight-10 backend`)
    expect(Math.abs(sharePercent(counts, 'b') - 10)).toBeLessThanOrEqual(1.5)
  })

  it('weight 0 receives nothing', async () => {
    expect(sharePercent(await tallyUpstreams(latch.url, '/zero', 1000, { agent }), 'b')).toBe(0)
  })

  it('50/30/20 over 10,000 requests, each within ±1.5 points', async () => {
    const counts = await tallyUpstreams(latch.url, '/three', 10_000, { agent })
    const shares = ['a', 'b', 'c'].map((prefix) => sharePercent(counts, prefix))
    console.info(`HTTPRoute 50/30/20: ${shares.map((share) => share.toFixed(2)).join(' / ')}`)
    ;[50, 30, 20].forEach((expected, i) => expect(Math.abs((shares[i] as number) - expected)).toBeLessThanOrEqual(1.5))
  })
})

describe('sticky canary with rule-level sessionPersistence (HTTPRouteSessionPersistence, weights moved by reload)', () => {
  it('1,000 cookie clients at 10 %, reload to 50 % then 90 %: 0 live sessions change backend; new clients follow within ±3 points', async () => {
    const all = await cookieClients(latch.url, '/sticky', 1000, 'shop', agent)
    expect(Math.abs(firstShare(all, 'b') - 10)).toBeLessThanOrEqual(3)
    for (const [weight, first] of [[50, 1000], [90, 2000]] as const) {
      writeFileSync(join(dir, 'routes.yaml'), routes(weight))
      await reloadBySignal(latch)
      await runClients(all, latch.url, { requests: 1, agent, path: '/sticky' })
      const fresh = await cookieClients(latch.url, '/sticky', 1000, 'shop', agent, first)
      console.info(`HTTPRoute sticky canary at ${weight} %: ${movedClients(all).length} of ${all.length} sessions moved; new clients ${firstShare(fresh, 'b').toFixed(1)} %`)
      expect(movedClients(all)).toHaveLength(0)
      expect(all.every((client) => client.visits.at(-1)?.affinity === 'hit')).toBe(true)
      expect(Math.abs(firstShare(fresh, 'b') - weight)).toBeLessThanOrEqual(3)
      all.push(...fresh)
    }
  })
})

describe('seeing the split: /pools, /metrics and the access log per rule and backend', () => {
  it('reports requests and live sessions per rule and backend', async () => {
    const pools = (await adminCall(latch, 'GET', '/pools')).body as unknown as { rules: { id: string; backends: { pool: string; weight: number; requests: number; liveSessions?: number; sessions: string }[] }[] }
    const ninety = pools.rules.find((rule) => rule.id === 'httproute/default/ninety/rule-0')
    expect(ninety?.backends.map((backend) => [backend.pool, backend.weight, backend.requests])).toEqual([['a', 90, 9000], ['b', 10, 1000]])
    const sticky = pools.rules.find((rule) => rule.id === 'httproute/default/sticky/rule-0')
    expect(sticky?.backends.map((backend) => backend.sessions)).toEqual(['rule', 'rule'])
    expect((sticky?.backends ?? []).reduce((sum, backend) => sum + (backend.liveSessions ?? 0), 0)).toBe(3000)
    const metrics = await (await fetch(`${latch.adminUrl as string}/metrics`)).text()
    expect(metrics).toContain('latch_route_backend_requests_total{rule="httproute/default/ninety/rule-0",pool="b"} 1000')
    expect(metrics).toMatch(/latch_route_backend_sessions\{rule="httproute\/default\/sticky\/rule-0",pool="b",sessions="rule"\} \d+/)
  })
})

describe('GEP-1619 details', () => {
  const cookieOf = (setCookie: readonly string[] | undefined, name: string): string | undefined => setCookie?.find((line) => line.startsWith(`${name}=`))

  it('Permanent cookies carry Max-Age = absoluteTimeout; Session cookies none', async () => {
    const permanent = await send({ port: latch.port, path: '/sticky' })
    expect(cookieOf(permanent.headers['set-cookie'], 'shop')).toMatch(/; Max-Age=3600;/)
    const session = await send({ port: latch.port, path: '/idle' })
    expect(cookieOf(session.headers['set-cookie'], 'idle')).toBeDefined()
    expect(cookieOf(session.headers['set-cookie'], 'idle')).not.toMatch(/Max-Age|Expires/i)
  })

  it('absoluteTimeout ends a session even while it is busy', async () => {
    let cookie = (cookieOf((await send({ port: latch.port, path: '/absolute' })).headers['set-cookie'], 'abs') as string).split(';')[0] as string
    const outcomes: string[] = []
    const deadline = Date.now() + 6000
    while (Date.now() < deadline && !outcomes.includes('expired')) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      const response = await send({ port: latch.port, path: '/absolute', headers: { cookie } })
      outcomes.push(String(response.headers['x-latch-affinity']))
      const renewed = cookieOf(response.headers['set-cookie'], 'abs')
      if (renewed !== undefined) cookie = renewed.split(';')[0] as string
    }
    // Busy all along (a request every 250 ms), yet the session ended after 3 s (tokens count whole seconds: ≤ 4 s).
    expect(outcomes.filter((outcome) => outcome === 'hit').length).toBeGreaterThanOrEqual(8)
    expect(outcomes.at(-1)).toBe('expired')
  })

  it('idleTimeout ends an idle session and not a busy one', async () => {
    const first = await send({ port: latch.port, path: '/idle' })
    let busy = (cookieOf(first.headers['set-cookie'], 'idle') as string).split(';')[0] as string
    const idle = busy
    const busyOutcomes: string[] = []
    for (let i = 0; i < 14; i++) {
      await new Promise((resolve) => setTimeout(resolve, 300))
      const response = await send({ port: latch.port, path: '/idle', headers: { cookie: busy } })
      busyOutcomes.push(String(response.headers['x-latch-affinity']))
      const renewed = cookieOf(response.headers['set-cookie'], 'idle')
      if (renewed !== undefined) busy = renewed.split(';')[0] as string
    }
    // 4.2 s of traffic, twice the idle timeout: the busy session never expired.
    expect(new Set(busyOutcomes)).toEqual(new Set(['hit']))
    const late = await send({ port: latch.port, path: '/idle', headers: { cookie: idle } })
    expect(late.headers['x-latch-affinity']).toBe('expired')
  })

  it('Header type returns the token in sessionName on the first response and honours it', async () => {
    const first = await send({ port: latch.port, path: '/header' })
    const token = first.headers['x-shop-session'] as string
    expect(token).toMatch(/^[\w-]{58}$/)
    for (let i = 0; i < 4; i++) {
      const again = await send({ port: latch.port, path: '/header', headers: { 'x-shop-session': token } })
      expect([again.headers['x-upstream'], again.headers['x-latch-affinity']]).toEqual([first.headers['x-upstream'], 'hit'])
    }
  })

  it('a forged token is treated as absent', async () => {
    const value = (cookieOf((await send({ port: latch.port, path: '/sticky' })).headers['set-cookie'], 'shop') as string).split(';')[0]?.split('=')[1] as string
    const forged = `${value.slice(0, 20)}${value[20] === 'A' ? 'B' : 'A'}${value.slice(21)}`
    const response = await send({ port: latch.port, path: '/sticky', headers: { cookie: `shop=${forged}` } })
    expect(response.headers['x-latch-affinity']).toBe('invalid')
    expect(cookieOf(response.headers['set-cookie'], 'shop')).toBeDefined()
  })
})
