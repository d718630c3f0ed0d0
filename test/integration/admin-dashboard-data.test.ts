/**
 * The dashboard's JSON endpoints (`/overview`, `/routes`, `/history`) and its files at `/`, through the
 * real CLI, in one process and with `--workers 2`.
 */
import { writeFileSync } from 'node:fs'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { adminCall } from '../helpers/admin-client.js'
import { send } from '../helpers/http-client.js'
import { stringify } from 'yaml'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startRedis, type RedisServer } from '../helpers/redis-server.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

function config(upstreams: readonly TestUpstream[], extraPath?: string): object {
  return {
    listen: '127.0.0.1:0',
    reload: { watch: false },
    log: { access: 'off' },
    pools: [
      { name: 'web', endpoints: upstreams.map((upstream) => upstream.url) },
      { name: 'api', endpoints: [upstreams[0]?.url] },
    ],
    routes: {
      rules: [
        { host: 'app.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'api' } } }, ...(extraPath === undefined ? [] : [{ path: extraPath, pathType: 'Exact', backend: { service: { name: 'api' } } }])] } },
        { http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } }] } },
      ],
    },
  }
}

/** Sends `count` requests to the traffic port, one after another. */
async function traffic(latch: LatchProcess, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const response = await request(`${latch.url}/page-${i}`)
    await response.body.dump()
  }
}

describe.each([
  ['one process', []],
  ['--workers 2', ['--workers', '2']],
])('dashboard data (%s)', (_name, args) => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b'].map((name) => startUpstream(name)))
    latch = await startLatch({ config: config(upstreams), args, timeoutMs: 30_000 })
  }, 40_000)

  afterAll(async () => {
    await latch?.stop()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  })

  it('GET /routes lists the compiled routing table in matching order, with each rule\'s pool', async () => {
    const reply = await adminCall(latch, 'GET', '/routes')
    expect(reply.status).toBe(200)
    expect(reply.body.routes).toEqual([
      { host: 'app.example.com', path: '/api', pathType: 'Prefix', pool: 'api', backends: [{ pool: 'api', weight: 1 }] },
      { host: '*', path: '/', pathType: 'Prefix', pool: 'web', backends: [{ pool: 'web', weight: 1 }] },
    ])
  })

  it('GET /history shows requests per second and p99 per pool, sampled every 2 s', async () => {
    await traffic(latch, 40)
    const history = await waitFor(async () => {
      const reply = await adminCall(latch, 'GET', '/history')
      const web = (reply.body.pools as Record<string, { requestsPerSecond: (number | null)[]; p99Seconds: (number | null)[] }>).web
      return web !== undefined && web.requestsPerSecond.some((value) => value !== null && value > 0) ? reply.body : undefined
    }, 15_000, 200, 'a /history sample with requests')
    expect(history.intervalSeconds).toBe(2)
    const web = (history.pools as Record<string, { requestsPerSecond: (number | null)[]; errorsPerSecond: (number | null)[]; p99Seconds: (number | null)[] }>).web!
    expect((history.times as number[]).length).toBe(web.requestsPerSecond.length)
    // 40 requests over one or more 2 s intervals.
    const total = web.requestsPerSecond.reduce<number>((sum, value) => sum + (value ?? 0) * 2, 0)
    expect(total).toBeGreaterThan(30)
    expect(total).toBeLessThan(50)
    expect(web.p99Seconds.some((value) => value !== null && value > 0 && value <= 60)).toBe(true)
    expect(web.errorsPerSecond.every((value) => value === null || value === 0)).toBe(true)
  }, 30_000)

  it('GET /pools gives each endpoint\'s p50/p99 over the last minute, counted over all workers', async () => {
    type Latency = { windowSeconds: number; requests: number; p50Ms: number | null; p99Ms: number | null; buckets: number[] }
    const webLatency = async (): Promise<Latency[]> => {
      const reply = await adminCall(latch, 'GET', '/pools')
      const web = (reply.body.pools as { name: string; endpoints: { latency: Latency }[] }[]).find((pool) => pool.name === 'web')
      return web?.endpoints.map((endpoint) => endpoint.latency) ?? []
    }
    const requests = (latencies: Latency[]): number => latencies.reduce((sum, latency) => sum + latency.requests, 0)
    const before = requests(await webLatency())
    // A new connection per request, so with --workers 2 both workers serve some: the supervisor adds up their buckets.
    for (let i = 0; i < 30; i++) expect((await send({ port: latch.port, path: `/latency-${i}` })).status).toBe(200)
    const after = await webLatency()
    expect(requests(after) - before).toBe(30)
    for (const latency of after) {
      expect(latency.windowSeconds).toBe(60)
      expect(latency.buckets.reduce((sum, count) => sum + count, 0)).toBe(latency.requests)
      expect(latency.p50Ms).toBeGreaterThan(0)
      expect(latency.p99Ms as number).toBeGreaterThanOrEqual(latency.p50Ms as number)
    }
  }, 30_000)

  it('GET /overview names version, workers, listeners, config file, store, and the last reloads with what changed or why they were refused', async () => {
    const file = latch.configFile as string
    writeFileSync(file, stringify({ ...config(upstreams, '/new'), admin: { listen: '127.0.0.1:0' }, shutdown: { drainDelay: '0s', drainTimeout: '3s' } }))
    const applied = await adminCall(latch, 'POST', '/reload')
    expect(applied.status).toBe(200)
    writeFileSync(file, 'pools: [{ name: 42 }]\n')
    const refused = await adminCall(latch, 'POST', '/reload')
    expect(refused.status).toBe(422)

    const reply = await adminCall(latch, 'GET', '/overview')
    expect(reply.status).toBe(200)
    const overview = reply.body as { version: string; uptimeSeconds: number; workers: { configured: number; serving: number }; listeners: string[]; configFile: string; store: Record<string, unknown>; reloads: Record<string, unknown>[] }
    expect(overview.version).toMatch(/^\d+\.\d+\.\d+/)
    expect(overview.uptimeSeconds).toBeGreaterThanOrEqual(0)
    const workers = args.length === 0 ? 1 : 2
    expect(overview.workers).toEqual({ configured: workers, serving: workers })
    expect(overview.listeners).toEqual([`127.0.0.1:${latch.port}`])
    expect(overview.configFile).toBe(file)
    expect(overview.store).toEqual({ type: 'memory', maxEntries: 100_000 })
    expect(overview.reloads).toHaveLength(2)
    expect(overview.reloads[0]).toMatchObject({ trigger: 'admin', ok: false, error: 'CONFIG_INVALID' })
    expect(overview.reloads[0]?.message).toContain(`${file}: pools[0].name`)
    expect(overview.reloads[1]).toMatchObject({ trigger: 'admin', ok: true })
    expect(Array.isArray(overview.reloads[1]?.changes)).toBe(true)

    const routes = await adminCall(latch, 'GET', '/routes')
    expect(routes.body.routes).toContainEqual({ host: 'app.example.com', path: '/new', pathType: 'Exact', pool: 'api', backends: [{ pool: 'api', weight: 1 }] })
  }, 30_000)

  it('GET / serves the dashboard page gzipped under a strict Content-Security-Policy; its scripts come from the admin listener', async () => {
    const page = await request(`${latch.adminUrl}/`, { headers: { 'accept-encoding': 'gzip' } })
    const body = gunzipSync(Buffer.from(await page.body.arrayBuffer())).toString()
    expect(page.statusCode).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['content-encoding']).toBe('gzip')
    expect(page.headers['content-security-policy']).toContain("script-src 'self'")
    expect(page.headers['content-security-policy']).toContain("default-src 'none'")
    expect(page.headers['x-content-type-options']).toBe('nosniff')
    expect(body).toContain('<script src="/dashboard.js"')
    expect(body).not.toMatch(/<script>|<style>|style="|https?:\/\//)
    let transferred = Buffer.byteLength(body)
    for (const path of ['/dashboard.js', '/dashboard.css', '/uplot.js', '/uplot.css']) {
      const file = await request(`${latch.adminUrl}${path}`, { headers: { 'accept-encoding': 'gzip' } })
      const bytes = Buffer.from(await file.body.arrayBuffer())
      expect(file.statusCode, path).toBe(200)
      transferred += bytes.length
    }
    // The budget: the page with its scripts and styles, ≤ 150 KB gzip.
    expect(transferred).toBeLessThan(150 * 1024)
  })

  it('the dashboard is never served on a traffic port', async () => {
    const response = await request(`${latch.url}/dashboard.js`)
    const text = await response.body.text()
    expect(text).not.toContain('latch-dashboard')
  })
})

describe('dashboard in quick mode with --admin', () => {
  let upstream: TestUpstream
  let latch: LatchProcess

  beforeAll(async () => {
    upstream = await startUpstream('q')
    latch = await startLatch({ args: ['--listen', '127.0.0.1:0', '--upstream', upstream.url, '--admin', '127.0.0.1:0', '--access-log', 'off'] })
  })

  afterAll(async () => {
    await latch?.stop()
    await upstream?.stop()
  })

  it('serves the page, and /overview says there is no config file', async () => {
    const page = await request(`${latch.adminUrl}/`)
    expect(page.statusCode).toBe(200)
    expect(await page.body.text()).toContain('<title>Latch dashboard</title>')
    const overview = await adminCall(latch, 'GET', '/overview')
    expect(overview.body.configFile).toBeNull()
    const routes = await adminCall(latch, 'GET', '/routes')
    expect((routes.body.routes as { pool: string }[]).length).toBeGreaterThan(0)
  })
})

describe('GET /overview with a Redis store', () => {
  let upstream: TestUpstream
  let redis: RedisServer
  let latch: LatchProcess

  beforeAll(async () => {
    upstream = await startUpstream('r')
    redis = await startRedis()
    latch = await startLatch({ config: { listen: '127.0.0.1:0', log: { access: 'off' }, sessionSecrets: ['overview-redis-secret-0123456789'], store: { type: 'redis', url: redis.url, commandTimeout: '300ms' }, pools: [{ name: 'web', endpoints: [upstream.url] }] } })
  })

  afterAll(async () => {
    await latch?.stop()
    await redis?.kill()
    await upstream?.stop()
  })

  it('shows Redis connected with the circuit breaker closed, then not connected once Redis is killed', async () => {
    // The breaker starts open and closes once Redis answered.
    const up = await waitFor(async () => {
      const reply = await adminCall(latch, 'GET', '/overview')
      return (reply.body.store as { connected: boolean }).connected ? reply.body.store : undefined
    }, 15_000, 100, 'the store shown connected')
    expect(up).toMatchObject({ type: 'redis', connected: true, breaker: 'closed' })
    expect((up as { target: string }).target).toContain(String(redis.port))
    await redis.kill()
    const down = await waitFor(async () => {
      const reply = await adminCall(latch, 'GET', '/overview')
      return (reply.body.store as { connected: boolean }).connected ? undefined : reply.body.store
    }, 15_000, 200, 'the store shown not connected')
    expect(down).toMatchObject({ type: 'redis', connected: false, breaker: 'open' })
  }, 30_000)
})
