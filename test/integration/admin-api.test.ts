import { createServer, type Server } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { adminCall, endpointAction } from '../helpers/admin-client.js'
import { holdSlowPaths, type HeldRequests } from '../helpers/held-upstream.js'
import { runCli, startLatch, writeConfig, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const TOKEN = 'test-admin-token-0123456789'

/** Sends `count` GETs to the traffic port one after another; returns which upstream answered each. */
async function upstreamsHit(latch: LatchProcess, count: number): Promise<string[]> {
  const seen: string[] = []
  for (let i = 0; i < count; i++) {
    const response = await request(`${latch.url}/spread-${i}`)
    await response.body.dump()
    expect(response.statusCode).toBe(200)
    seen.push(response.headers['x-upstream'] as string)
  }
  return seen
}

const idOf = (upstream: TestUpstream): string => `127.0.0.1:${upstream.port}`

describe('admin API', () => {
  let upstreams: TestUpstream[]
  let holds: HeldRequests[]
  let latch: LatchProcess

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b'].map((name) => startUpstream(name)))
    holds = upstreams.map(holdSlowPaths)
    latch = await startLatch({ config: { listen: '127.0.0.1:0', pools: [{ name: 'web', endpoints: upstreams.map((upstream) => upstream.url) }] } })
  })

  afterAll(async () => {
    holds.forEach((hold) => hold.releaseAll())
    await latch.stop()
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
  })

  it('logs the bound admin address in the "latch is serving" line, apart from the traffic port', () => {
    const line = latch.logs.find((entry) => entry.msg === 'latch is serving')
    expect(line?.admin).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(latch.adminUrl).toBe(`http://${line?.admin as string}`)
    expect(new URL(latch.adminUrl as string).port).not.toBe(String(latch.port))
  })

  it('GET /healthz answers 200 while the process is alive', async () => {
    const reply = await adminCall(latch, 'GET', '/healthz')
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ status: 'ok' })
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8')
  })

  it('GET /readyz answers 200 with ready and the named checks once listeners are bound', async () => {
    const reply = await adminCall(latch, 'GET', '/readyz')
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual({ ready: true, details: { config: { ok: true }, listeners: { ok: true }, shutdown: { ok: true } } })
  })

  it('GET /pools lists every pool and endpoint with state and live counters', async () => {
    await upstreamsHit(latch, 2)
    const reply = await adminCall(latch, 'GET', '/pools')
    expect(reply.status).toBe(200)
    const [pool] = reply.body.pools as Record<string, unknown>[]
    expect(pool).toMatchObject({ name: 'web', panic: false, retries: 0, queue: { length: 0, rejectedFull: 0, timedOut: 0 } })
    const endpoints = pool?.endpoints as Record<string, unknown>[]
    expect(endpoints.map((endpoint) => endpoint.id)).toEqual(upstreams.map(idOf))
    for (const [index, endpoint] of endpoints.entries()) {
      expect(endpoint).toMatchObject({
        url: upstreams[index]?.url, source: 'static', state: 'healthy', adminState: 'active', checkState: 'unknown', available: true,
        weight: 1, inflight: 0, failures: 0, errors: {}, ejections: 0, ejectedUntil: null, removalDeadline: null, lastCheck: null, upgraded: 0, sessions: 0,
      })
      expect(endpoint.total).toBeGreaterThanOrEqual(1)
    }
  })

  it('answers 404 with a stable code for an unknown route, pool or endpoint', async () => {
    const route = await adminCall(latch, 'GET', '/nope')
    expect(route.status).toBe(404)
    expect(route.body).toMatchObject({ error: 'ERR_ADMIN_NOT_FOUND', status: 404 })
    expect(route.body.message).toContain('GET /pools')
    const pool = await adminCall(latch, 'POST', '/pools/nosuch/endpoints/127.0.0.1:1/drain')
    expect(pool.status).toBe(404)
    expect(pool.body).toMatchObject({ error: 'ERR_ADMIN_UNKNOWN_POOL', message: 'no pool named "nosuch" — pools: web' })
    const endpoint = await adminCall(latch, 'POST', '/pools/web/endpoints/10.9.9.9:80/drain')
    expect(endpoint.status).toBe(404)
    expect(endpoint.body).toMatchObject({ error: 'ERR_ADMIN_UNKNOWN_ENDPOINT' })
    expect(endpoint.body.message).toContain(idOf(upstreams[0] as TestUpstream))
  })

  it('answers 405 with Allow for a wrong method', async () => {
    const onAction = await adminCall(latch, 'GET', `/pools/web/endpoints/${idOf(upstreams[0] as TestUpstream)}/drain`)
    expect(onAction.status).toBe(405)
    expect(onAction.headers.allow).toBe('POST')
    expect(onAction.body).toMatchObject({ error: 'ERR_ADMIN_METHOD_NOT_ALLOWED', status: 405 })
    const onPools = await adminCall(latch, 'DELETE', '/pools')
    expect(onPools.status).toBe(405)
    expect(onPools.headers.allow).toBe('GET, HEAD')
  })

  it('answers 400 for an unknown action or a malformed endpoint id', async () => {
    const action = await adminCall(latch, 'POST', `/pools/web/endpoints/${idOf(upstreams[0] as TestUpstream)}/explode`)
    expect(action.status).toBe(400)
    expect(action.body).toMatchObject({ error: 'ERR_ADMIN_BAD_ACTION', message: 'unknown action "explode" — expected drain, undrain, maintenance' })
    const encoding = await adminCall(latch, 'POST', '/pools/web/endpoints/127.0.0.1%3/drain')
    expect(encoding.status).toBe(400)
    expect(encoding.body).toMatchObject({ error: 'ERR_ADMIN_BAD_REQUEST' })
  })

  it('drain stops new requests to the endpoint while its in-flight request completes; undrain restores it', async () => {
    const slow = request(`${latch.url}/slow`)
    await waitFor(() => holds.some((hold) => hold.held.length === 1), 5000, 20, 'the slow request to arrive')
    const holder = holds.findIndex((hold) => hold.held.length === 1)
    const drained = upstreams[holder] as TestUpstream
    const other = upstreams[1 - holder] as TestUpstream
    const reply = await endpointAction(latch, 'web', idOf(drained), 'drain')
    expect(reply.body).toMatchObject({ pool: 'web', action: 'drain', endpoint: { id: idOf(drained), state: 'draining', adminState: 'draining', inflight: 1 } })

    expect(new Set(await upstreamsHit(latch, 6))).toEqual(new Set([other.name]))
    holds[holder]?.releaseAll()
    const finished = await slow
    expect(finished.statusCode).toBe(200)
    expect(finished.headers['x-upstream']).toBe(drained.name)
    expect(await finished.body.text()).toBe('slow done')

    const undrained = await endpointAction(latch, 'web', idOf(drained), 'undrain')
    expect(undrained.body).toMatchObject({ action: 'undrain', endpoint: { state: 'healthy', adminState: 'active', inflight: 0 } })
    expect(new Set(await upstreamsHit(latch, 4))).toEqual(new Set(['a', 'b']))
  })

  it('maintenance sends nothing to the endpoint; the id may be URL-encoded', async () => {
    const target = upstreams[0] as TestUpstream
    const before = target.arrivals.length
    const reply = await adminCall(latch, 'POST', `/pools/web/endpoints/${encodeURIComponent(idOf(target))}/maintenance`)
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({ endpoint: { id: idOf(target), state: 'maintenance', adminState: 'maintenance', available: false } })
    expect(new Set(await upstreamsHit(latch, 6))).toEqual(new Set(['b']))
    expect(target.arrivals.length).toBe(before)
    await endpointAction(latch, 'web', idOf(target), 'undrain')
    expect(new Set(await upstreamsHit(latch, 4))).toEqual(new Set(['a', 'b']))
  })

  it('the traffic port routes admin paths to the upstream like any other path', async () => {
    for (const path of ['/pools', '/metrics', '/readyz']) {
      const response = await request(`${latch.url}${path}`)
      const body = (await response.body.json()) as { upstream: string; url: string }
      expect(response.statusCode).toBe(200)
      expect(body.url).toBe(path)
      expect(['a', 'b']).toContain(body.upstream)
    }
    // The test upstream answers its own /healthz with plain "ok" (the admin one is JSON).
    const health = await request(`${latch.url}/healthz`)
    expect(health.headers['content-type']).toBe('text/plain')
    expect(await health.body.text()).toBe('ok')
    const target = upstreams[0] as TestUpstream
    const response = await request(`${latch.url}/pools/web/endpoints/${idOf(target)}/drain`, { method: 'POST' })
    expect(((await response.body.json()) as { method: string }).method).toBe('POST')
    const pools = await adminCall(latch, 'GET', '/pools')
    const endpoints = (pools.body.pools as { endpoints: { adminState: string }[] }[])[0]?.endpoints
    expect(endpoints?.map((endpoint) => endpoint.adminState)).toEqual(['active', 'active'])
  })
})

describe('admin API with a token', () => {
  let upstream: TestUpstream
  let latch: LatchProcess

  beforeAll(async () => {
    upstream = await startUpstream('only')
    latch = await startLatch({ config: { listen: '127.0.0.1:0', admin: { listen: '127.0.0.1:0', token: TOKEN }, pools: [{ name: 'web', endpoints: [upstream.url] }] } })
  })

  afterAll(async () => {
    await latch.stop()
    await upstream.stop()
  })

  it('refuses a mutating call without a token or with a wrong one (401), accepts the right one', async () => {
    const path = `/pools/web/endpoints/${idOf(upstream)}/drain`
    const missing = await adminCall(latch, 'POST', path)
    expect(missing.status).toBe(401)
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="latch-admin"')
    expect(missing.body).toMatchObject({ error: 'ERR_ADMIN_UNAUTHORIZED', status: 401 })
    expect(missing.body.message).toContain('missing Authorization header')
    for (const authorization of [`Bearer ${TOKEN}x`, 'Bearer short', `Basic ${TOKEN}`, TOKEN]) {
      const wrong = await adminCall(latch, 'POST', path, { authorization })
      expect(wrong.status).toBe(401)
      expect(wrong.body.error).toBe('ERR_ADMIN_UNAUTHORIZED')
    }
    const pools = await adminCall(latch, 'GET', '/pools')
    expect((pools.body.pools as { endpoints: { adminState: string }[] }[])[0]?.endpoints[0]?.adminState).toBe('active')

    const right = await adminCall(latch, 'POST', path, { token: TOKEN })
    expect(right.status).toBe(200)
    expect(right.body).toMatchObject({ endpoint: { adminState: 'draining' } })
    expect(JSON.stringify(latch.logs)).not.toContain(TOKEN)
  })

  it('keeps reads open without a token', async () => {
    expect((await adminCall(latch, 'GET', '/pools')).status).toBe(200)
    expect((await adminCall(latch, 'GET', '/readyz')).status).toBe(200)
  })
})

describe('admin listener lifecycle', () => {
  let upstream: TestUpstream
  let hold: HeldRequests
  let blocker: Server | undefined

  beforeAll(async () => {
    upstream = await startUpstream('only')
    hold = holdSlowPaths(upstream)
  })

  afterEach(async () => {
    hold.releaseAll()
    await new Promise<void>((resolve) => (blocker === undefined ? resolve() : blocker.close(() => resolve())))
    blocker = undefined
  })

  afterAll(async () => {
    await upstream.stop()
  })

  it('/readyz turns 503 as soon as shutdown begins, while in-flight requests finish', async () => {
    const latch = await startLatch({ config: { listen: '127.0.0.1:0', pools: [{ name: 'web', endpoints: [upstream.url] }] } })
    // Connection: close, so the finished request leaves no idle keep-alive connection to wait for.
    const slow = request(`${latch.url}/slow`, { headers: { connection: 'close' } })
    await waitFor(() => hold.held.length === 1, 5000, 20, 'the slow request to arrive')
    latch.child.kill('SIGTERM')
    const reply = await waitFor(async () => {
      const current = await adminCall(latch, 'GET', '/readyz')
      return current.status === 503 ? current : undefined
    }, 5000, 20, '/readyz to report shutdown')
    expect(reply.body).toEqual({ ready: false, details: { config: { ok: true }, listeners: { ok: true }, shutdown: { ok: false, detail: 'shutting down' } } })
    expect((await adminCall(latch, 'GET', '/healthz')).status).toBe(200)
    hold.releaseAll()
    expect((await slow).statusCode).toBe(200)
    expect(await latch.exited).toBe(0)
  })

  it('a busy admin port stops start-up with a precise LISTEN_FAILED error', async () => {
    const busy = createServer()
    blocker = busy
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as { port: number }).port
    const file = writeConfig({ listen: '127.0.0.1:0', admin: { listen: `127.0.0.1:${port}` }, pools: [{ name: 'web', endpoints: [upstream.url] }] })
    const result = await runCli(['--config', file])
    expect(result.code).toBe(1)
    const fatal = result.stdout.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { level: string; code?: string; msg: string }).find((line) => line.level === 'fatal')
    expect(fatal).toMatchObject({ code: 'LISTEN_FAILED', msg: `cannot listen for the admin API (admin.listen) on 127.0.0.1:${port}: the address is already in use by another process (EADDRINUSE)` })
  })

  it('admin.listen: false binds no admin listener', async () => {
    const latch = await startLatch({ config: { listen: '127.0.0.1:0', admin: { listen: false }, pools: [{ name: 'web', endpoints: [upstream.url] }] } })
    try {
      expect(latch.logs.find((entry) => entry.msg === 'latch is serving')?.admin).toBe(false)
      expect(latch.adminUrl).toBeUndefined()
      expect((await request(`${latch.url}/ok`)).statusCode).toBe(200)
    } finally {
      await latch.stop()
    }
  })

  it('the traffic port answers admin paths per routing: 404 when no rule matches', async () => {
    const config = {
      listen: '127.0.0.1:0',
      pools: [{ name: 'web', endpoints: [upstream.url] }],
      routes: { rules: [{ http: { paths: [{ path: '/app', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
    }
    const latch = await startLatch({ config })
    try {
      for (const path of ['/pools', '/metrics', '/readyz', '/healthz']) {
        const response = await request(`${latch.url}${path}`)
        const body = (await response.body.json()) as { error: string }
        expect(response.statusCode).toBe(404)
        expect(body.error).toBe('ERR_NO_ROUTE')
      }
    } finally {
      await latch.stop()
    }
  })
})
