/**
 * ingress-nginx canary annotations through the real CLI and real upstreams: every pair is a main
 * Ingress and a canary Ingress (`canary: "true"`) for the same path, pasted as a user migrating from
 * ingress-nginx would; Latch merges them into one rule. Upstreams m1, m2 serve the main pools, c1, c2
 * the canary pools, so `x-upstream` tells which backend answered.
 *
 * Covers each annotation (canary, canary-by-header, -value, -pattern, canary-by-cookie always/never,
 * canary-weight, canary-weight-total, affinity-canary-behavior), the header > cookie > weight
 * precedence, and the sticky canary: 1,000 cookie clients at 10 %, reloads to 50 % and 90 %: no live
 * session changes backend; new clients follow the new weight within ±3 points.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { cookieClients, movedClients, reloadBySignal, sharePercent, tallyUpstreams } from '../helpers/canary-traffic.js'
import { runCli, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { send } from '../helpers/http-client.js'
import { runClients } from '../helpers/session-clients.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const P = 'nginx.ingress.kubernetes.io/'

/** A main Ingress and its canary for `path`, main → pool `<name>`, canary → pool `<name>-canary`. */
function pair(name: string, canary: Record<string, string>, main: Record<string, string> = {}): object[] {
  const ingress = (ingressName: string, pool: string, annotations: Record<string, string>) => ({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: ingressName, annotations },
    spec: { ingressClassName: 'nginx', rules: [{ http: { paths: [{ path: `/${name}`, pathType: 'Prefix', backend: { service: { name: pool, port: { number: 80 } } } }] } }] },
  })
  return [ingress(name, name, main), ingress(`${name}-canary`, `${name}-canary`, { [`${P}canary`]: 'true', ...canary })]
}

const PAIRS: Record<string, [Record<string, string>, Record<string, string>?]> = {
  weight: [{ [`${P}canary-weight`]: '10' }],
  zero: [{ [`${P}canary-weight`]: '0' }],
  total: [{ [`${P}canary-weight`]: '1', [`${P}canary-weight-total`]: '4' }],
  header: [{ [`${P}canary-by-header`]: 'X-Canary' }],
  value: [{ [`${P}canary-by-header`]: 'X-Region', [`${P}canary-by-header-value`]: 'eu' }],
  pattern: [{ [`${P}canary-by-header`]: 'X-Region', [`${P}canary-by-header-pattern`]: '^eu-' }],
  cookie: [{ [`${P}canary-by-cookie`]: 'beta' }],
  precedence: [{ [`${P}canary-by-header`]: 'X-Canary', [`${P}canary-by-cookie`]: 'beta', [`${P}canary-weight`]: '50' }],
  bound: [{ [`${P}canary-by-header`]: 'X-Canary' }, { [`${P}affinity`]: 'cookie', [`${P}session-cookie-name`]: 'BOUND' }],
  legacy: [{ [`${P}canary-weight`]: '50', [`${P}affinity-canary-behavior`]: 'legacy' }, { [`${P}affinity`]: 'cookie', [`${P}session-cookie-name`]: 'LEGACY' }],
}

function manifests(stickyWeight: number): string {
  const docs = Object.entries(PAIRS).flatMap(([name, [canary, main]]) => pair(name, canary, main))
  docs.push(...pair('sticky', { [`${P}canary-weight`]: String(stickyWeight) }, { [`${P}affinity`]: 'cookie' }))
  return docs.map((doc) => stringify(doc)).join('---\n')
}

let upstreams: TestUpstream[]
let latch: LatchProcess
let dir: string
let agent: Agent

beforeAll(async () => {
  upstreams = await Promise.all(['m1', 'm2', 'c1', 'c2'].map((name) => startUpstream(name)))
  const [m1, m2, c1, c2] = upstreams.map((upstream) => upstream.url)
  dir = mkdtempSync(join(tmpdir(), 'latch-canary-'))
  writeFileSync(join(dir, 'ingress.yaml'), manifests(10))
  const names = [...Object.keys(PAIRS), 'sticky']
  writeFileSync(join(dir, 'latch.yaml'), stringify({
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'info', access: 'off' },
    reload: { watch: false },
    shutdown: { drainDelay: '0s', drainTimeout: '3s' },
    sessionSecrets: ['canary-test-secret-0123456789ab'],
    pools: names.flatMap((name) => [{ name, endpoints: [m1, m2] }, { name: `${name}-canary`, endpoints: [c1, c2] }]),
    routes: 'ingress.yaml',
  }))
  latch = await startLatch({ args: ['--config', join(dir, 'latch.yaml')] })
  agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 })
})

afterAll(async () => {
  await agent?.close()
  await latch?.stop()
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
})

const canaryShare = async (path: string, count: number, headers?: Record<string, string>): Promise<number> => sharePercent(await tallyUpstreams(latch.url, path, count, { agent, ...(headers === undefined ? {} : { headers }) }), 'c')

describe('ingress-nginx canary annotations (a main and a canary Ingress for the same path)', () => {
  it('canary-weight: 10 sends 10 % of 10,000 requests to the canary (±1.5 points); canary-weight: 0 sends none', async () => {
    const share = await canaryShare('/weight', 10_000)
    console.info(`canary-weight 10: ${share.toFixed(2)} % of 10,000 requests reached the canary`)
    expect(Math.abs(share - 10)).toBeLessThanOrEqual(1.5)
    expect(await canaryShare('/zero', 1000)).toBe(0)
  })

  it('canary-weight-total: weight 1 of 4 is 25 %', async () => {
    expect(Math.abs((await canaryShare('/total', 2000)) - 25)).toBeLessThanOrEqual(1.5)
  })

  it('canary-by-header: always → canary, never → main, any other value falls through to the weight (0)', async () => {
    expect(await canaryShare('/header', 20, { 'x-canary': 'always' })).toBe(100)
    expect(await canaryShare('/header', 20, { 'x-canary': 'never' })).toBe(0)
    expect(await canaryShare('/header', 20, { 'x-canary': 'please' })).toBe(0)
  })

  it('canary-by-header-value: only that value → canary; canary-by-header-pattern: a match → canary', async () => {
    expect(await canaryShare('/value', 20, { 'x-region': 'eu' })).toBe(100)
    expect(await canaryShare('/value', 20, { 'x-region': 'always' })).toBe(0)
    expect(await canaryShare('/pattern', 20, { 'x-region': 'eu-west-1' })).toBe(100)
    expect(await canaryShare('/pattern', 20, { 'x-region': 'us-east-1' })).toBe(0)
  })

  it('canary-by-cookie: always → canary, never → main, other values fall through', async () => {
    expect(await canaryShare('/cookie', 20, { cookie: 'beta=always' })).toBe(100)
    expect(await canaryShare('/cookie', 20, { cookie: 'beta=never' })).toBe(0)
    expect(await canaryShare('/cookie', 20, { cookie: 'beta=yes' })).toBe(0)
  })

  it('precedence: header over cookie over weight', async () => {
    expect(await canaryShare('/precedence', 20, { 'x-canary': 'always', cookie: 'beta=never' })).toBe(100)
    expect(await canaryShare('/precedence', 20, { 'x-canary': 'never', cookie: 'beta=always' })).toBe(0)
    expect(await canaryShare('/precedence', 20, { 'x-canary': 'other', cookie: 'beta=always' })).toBe(100)
    expect(await canaryShare('/precedence', 20, { cookie: 'beta=never' })).toBe(0)
    expect(await canaryShare('/precedence', 1000)).toBe(50)
  })

  it('a bound session stays on its version whatever the canary header says (ingress-nginx is_affinitized comes first)', async () => {
    const onMain = await send({ port: latch.port, path: '/bound/x' })
    const onCanary = await send({ port: latch.port, path: '/bound/x', headers: { 'x-canary': 'always' } })
    expect([onMain.headers['x-upstream'], onCanary.headers['x-upstream']].map((name) => String(name)[0])).toEqual(['m', 'c'])
    const cookieOf = (response: typeof onMain): string => String((response.headers['set-cookie'] ?? [])[0]).split(';')[0] as string
    for (let i = 0; i < 5; i++) {
      expect(String((await send({ port: latch.port, path: '/bound/x', headers: { 'x-canary': 'always', cookie: cookieOf(onMain) } })).headers['x-upstream'])).toBe(onMain.headers['x-upstream'])
      expect(String((await send({ port: latch.port, path: '/bound/x', headers: { 'x-canary': 'never', cookie: cookieOf(onCanary) } })).headers['x-upstream'])).toBe(onCanary.headers['x-upstream'])
    }
  })

  it('affinity-canary-behavior: legacy decides every request anew, a session cookie notwithstanding', async () => {
    const clients = await cookieClients(latch.url, '/legacy', 10, 'LEGACY', agent)
    expect(clients.every((client) => client.binding !== undefined)).toBe(true)
    // One client at a time (in lockstep, an even number of clients would each keep one parity of
    // the smooth 50/50 alternation): with a fresh decision per request every client sees both.
    await runClients(clients, latch.url, { requests: 5, agent, path: '/legacy', concurrency: 1 })
    expect(movedClients(clients)).toHaveLength(10)
  })

  it('latch check accepts the pair and warns about nothing canary-related', async () => {
    const result = await runCli(['check', '--config', join(dir, 'latch.yaml')])
    expect(result.code).toBe(0)
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/warn|unsupported annotations|affinity cookie/i)
  })
})

describe('sticky canary (affinity-canary-behavior: sticky, the default) across reloads', () => {
  it('1,000 cookie clients at 10 %, reload to 50 % then 90 %: no live session changes backend; new clients follow the new weight (±3 points)', async () => {
    const all = await cookieClients(latch.url, '/sticky', 1000, 'INGRESSCOOKIE', agent)
    const at10 = sharePercent(Object.fromEntries(['c', 'm'].map((p) => [p, all.filter((client) => client.upstreams[0]?.startsWith(p)).length])), 'c')
    expect(Math.abs(at10 - 10)).toBeLessThanOrEqual(3)
    for (const [weight, first] of [[50, 1000], [90, 2000]] as const) {
      writeFileSync(join(dir, 'ingress.yaml'), manifests(weight))
      await reloadBySignal(latch)
      await runClients(all, latch.url, { requests: 1, agent, path: '/sticky' })
      const fresh = await cookieClients(latch.url, '/sticky', 1000, 'INGRESSCOOKIE', agent, first)
      const share = (100 * fresh.filter((client) => client.upstreams[0]?.startsWith('c')).length) / fresh.length
      console.info(`sticky canary at ${weight} %: ${movedClients(all).length} of ${all.length} live sessions moved; new clients ${share.toFixed(1)} % canary`)
      expect(movedClients(all)).toHaveLength(0)
      expect(Math.abs(share - weight)).toBeLessThanOrEqual(3)
      all.push(...fresh)
    }
  })
})
