import { readdirSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { parse } from 'yaml'
import { runCli, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const CONFIG_DIR = resolve(import.meta.dirname, '../../config')
const EXAMPLES = readdirSync(resolve(CONFIG_DIR, 'examples'))
  .filter((name) => name.endsWith('.yaml'))
  .map((name) => `config/examples/${name}`)
const SHIPPED = [...EXAMPLES, 'config/latch.yaml']

interface ExampleConfig {
  listen?: unknown
  pools: { name: string; endpoints: unknown[] }[]
  routes?: unknown
}

const running: { latch: LatchProcess; upstreams: TestUpstream[] }[] = []

afterAll(async () => {
  for (const { latch, upstreams } of running) {
    await latch.stop()
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
  }
})

/** Runs an example as it is, except that each endpoint becomes a test upstream named `POOL#N`. */
async function serveExample(file: string): Promise<LatchProcess> {
  const config = parse(readFileSync(resolve(CONFIG_DIR, '..', file), 'utf8')) as ExampleConfig
  const upstreams: TestUpstream[] = []
  for (const pool of config.pools) {
    const started = await Promise.all(pool.endpoints.map((_, index) => startUpstream(`${pool.name}#${index + 1}`)))
    pool.endpoints = started.map((upstream) => upstream.url)
    upstreams.push(...started)
  }
  config.listen = '127.0.0.1:0'
  // Manifest paths are relative to the example; the test config lives in a temp directory.
  if (typeof config.routes === 'string') config.routes = resolve(CONFIG_DIR, '..', dirname(file), config.routes)
  const latch = await startLatch({ config, args: ['--access-log', 'off'] })
  running.push({ latch, upstreams })
  return latch
}

/** The upstream (`POOL#N`) that answered, and the response headers. */
async function send(latch: LatchProcess, path: string, headers: Record<string, string>): Promise<{ upstream: string; headers: Record<string, unknown> }> {
  const response = await request(`${latch.url}${path}`, { headers })
  await response.body.dump()
  return { upstream: String(response.headers['x-upstream']), headers: response.headers }
}

async function poolFor(latch: LatchProcess, host: string, path: string): Promise<string> {
  return (await send(latch, path, { host })).upstream.split('#')[0] as string
}

describe('shipped configs', () => {
  it('include the demo, routing and manifest examples', () => {
    expect(EXAMPLES).toEqual(expect.arrayContaining(['config/examples/demo.yaml', 'config/examples/minimal.yaml', 'config/examples/routing.yaml', 'config/examples/ingress-manifests.yaml', 'config/examples/production.yaml', 'config/examples/sticky-sessions.yaml']))
  })

  it.each(SHIPPED)('%s passes `latch check` without any environment variable set', async (file) => {
    const env = Object.fromEntries(Object.keys(process.env).filter((name) => /^(LATCH_|DEMO_|UPLOADS_)/.test(name)).map((name) => [name, '']))
    const { code, stdout, stderr } = await runCli(['check', '--config', resolve(CONFIG_DIR, '..', file)], env)
    expect(stderr).toBe('')
    expect(stdout).toMatch(/: ok \(\d+ pools?, \d+ listeners?\)\n$/)
    expect(code).toBe(0)
  })

  it('routing.yaml sends each request to the pool its comments promise', async () => {
    const latch = await serveExample('config/examples/routing.yaml')
    const cases: [string, string, string][] = [
      ['shop.example.com', '/', 'web'],
      ['shop.example.com', '/api', 'api'],
      ['shop.example.com', '/api/orders?id=1', 'api'],
      ['shop.example.com', '/apix', 'web'],
      ['SHOP.example.com:8080', '/api/', 'api'],
      ['shop.example.com', '/static/../api/x', 'api'],
      ['shop.example.com', '/assets/app.css', 'static'],
      ['shop.example.com', '/assets/logo.png', 'web'],
      ['a.tenants.example.com', '/', 'tenants'],
      ['a.b.tenants.example.com', '/', 'web'],
      ['admin.example.com', '/admin/users', 'admin'],
      ['admin.example.com', '/other', 'fallback'],
      ['other.example.org', '/status', 'admin'],
      ['other.example.org', '/status/x', 'web'],
    ]
    const seen = []
    for (const [host, path] of cases) seen.push([host, path, await poolFor(latch, host, path)])
    expect(seen).toEqual(cases)
  })

  it('ingress-manifests.yaml routes with the Ingress it reads from manifests/shop.yaml', async () => {
    const latch = await serveExample('config/examples/ingress-manifests.yaml')
    expect(await poolFor(latch, 'shop.example.com', '/api/cart')).toBe('shop-api')
    expect(await poolFor(latch, 'shop.example.com', '/')).toBe('shop-frontend')
    expect(await poolFor(latch, 'elsewhere.example.com', '/api')).toBe('shop-frontend')
  })

  it('sticky-sessions.yaml keeps a cookie session, and a hash key, on one endpoint', async () => {
    const latch = await serveExample('config/examples/sticky-sessions.yaml')
    const first = await send(latch, '/cart', { host: 'shop.example.com' })
    expect(first.headers['x-latch-affinity']).toBe('new')
    const cookie = String(first.headers['set-cookie']).split(';')[0] as string
    expect(cookie).toMatch(/^latch=[\w-]{20,}$/)
    const again = await Promise.all([1, 2, 3, 4, 5].map(() => send(latch, '/cart', { host: 'shop.example.com', cookie })))
    expect(again.map((answer) => answer.upstream)).toEqual(Array(5).fill(first.upstream))
    expect(again.map((answer) => answer.headers['x-latch-affinity'])).toEqual(Array(5).fill('hit'))
    const fresh = new Set<string>()
    for (let i = 0; i < 6; i++) fresh.add((await send(latch, '/cart', { host: 'shop.example.com' })).upstream)
    expect(fresh.size).toBeGreaterThan(1)
    // One at a time: with boundedLoad, concurrent requests may rightly overflow to the next endpoint.
    const tenant = new Set<string>()
    for (let i = 0; i < 4; i++) tenant.add((await send(latch, '/cache/x', { 'x-tenant': 'acme' })).upstream)
    expect([...tenant]).toHaveLength(1)
    expect([...tenant][0]).toMatch(/^cache#/)
  })
})
