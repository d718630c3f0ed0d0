/**
 * Routing through the real CLI: routes given inline as an Ingress spec and as a multi-document manifest
 * file; and path normalisation end to end (no request reaches a pool its canonical path does not route
 * to, and the upstream receives exactly the canonical path with the query untouched).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixture } from '../helpers/config-mistakes.js'
import { send } from '../helpers/http-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

let app: TestUpstream
let api: TestUpstream
let fallback: TestUpstream
const env = (): NodeJS.ProcessEnv => ({ APP_URL: app.url, API_URL: api.url, FALLBACK_URL: fallback.url })

beforeAll(async () => {
  ;[app, api, fallback] = await Promise.all([startUpstream('app'), startUpstream('api'), startUpstream('fallback')])
})
afterAll(async () => {
  await Promise.all([app, api, fallback].map((upstream) => upstream.stop()))
})

/** Sends `path` with `host`; returns which upstream answered (or the status) and the path it saw. */
async function land(latch: LatchProcess, host: string, path: string): Promise<{ where: string; url?: string }> {
  const response = await send({ port: latch.port, path, headers: { host } })
  if (response.status !== 200) return { where: String(response.status) }
  return { where: response.headers['x-upstream'] as string, url: (response.json as { url: string }).url }
}

describe('routes given inline as an Ingress spec (config file through the CLI)', () => {
  let latch: LatchProcess
  beforeAll(async () => {
    latch = await startLatch({ args: ['--config', fixture('ingress-routes.yaml', 'routes')], env: env() })
  })
  afterAll(() => latch.stop())

  it.each([
    ['app.example.com', '/', 'app'],
    ['app.example.com', '/api/users?id=1', 'api'],
    ['app.example.com', '/apiary', 'app'],
    ['APP.example.com.:8080', '/api', 'api'],
    ['x.example.com', '/anything', 'api'],
    ['x.y.example.com', '/anything', 'fallback'],
    ['example.com', '/', 'fallback'],
    ['other.test', '/api', 'fallback'],
  ])('%s%s → %s', async (host, path, expected) => {
    expect((await land(latch, host, path)).where).toBe(expected)
  })
})

describe('routes read from a multi-document manifest file (config file through the CLI)', () => {
  let latch: LatchProcess
  beforeAll(async () => {
    latch = await startLatch({ args: ['--config', fixture('manifest-routes.yaml', 'routes')], env: env() })
  })
  afterAll(() => latch.stop())

  it.each([
    ['app.example.com', '/', 'app'],
    ['app.example.com', '/api', 'api'],
    ['app.example.com', '/api/exact', 'app'],
    ['app.example.com', '/api/exact/more', 'api'],
  ])('%s%s → %s', async (host, path, expected) => {
    expect((await land(latch, host, path)).where).toBe(expected)
  })

  it('answers 404 naming host and path when nothing matches and there is no defaultBackend', async () => {
    const before = app.arrivals.length + api.arrivals.length
    const response = await send({ port: latch.port, path: '/some/where?q=1', headers: { host: 'Nowhere.Test:81' } })
    expect(response.status).toBe(404)
    expect(response.headers['x-latch-error']).toBe('ERR_NO_ROUTE')
    expect(response.json).toEqual({ error: 'ERR_NO_ROUTE', status: 404, message: 'no route for host "nowhere.test" and path "/some/where"', requestId: response.headers['x-request-id'] })
    expect(app.arrivals.length + api.arrivals.length).toBe(before)
  })
})

describe('path normalisation end to end: /public → pool A, /admin → pool B', () => {
  let publicPool: TestUpstream
  let adminPool: TestUpstream
  let latch: LatchProcess
  beforeAll(async () => {
    ;[publicPool, adminPool] = await Promise.all([startUpstream('public'), startUpstream('admin')])
    const paths = [
      { path: '/public', pathType: 'Prefix', backend: { service: { name: 'public' } } },
      { path: '/admin', pathType: 'Prefix', backend: { service: { name: 'admin' } } },
    ]
    latch = await startLatch({
      config: { listen: '127.0.0.1:0', pools: [{ name: 'public', endpoints: [publicPool.url] }, { name: 'admin', endpoints: [adminPool.url] }], routes: { rules: [{ http: { paths } }] } },
    })
  })
  afterAll(async () => {
    await latch.stop()
    await Promise.all([publicPool.stop(), adminPool.stop()])
  })

  // [sent, where it must land (pool name or status), exact path+query the upstream must receive]
  it.each([
    ['/public/page', 'public', '/public/page'],
    ['/public/../admin', 'admin', '/admin'],
    ['/public/%2e%2e/admin', 'admin', '/admin'],
    ['/public/%2E%2E/admin/', 'admin', '/admin/'],
    ['/public/.%2e/admin', 'admin', '/admin'],
    ['//admin', 'admin', '/admin'],
    ['/./admin', 'admin', '/admin'],
    ['/%61dmin', 'admin', '/admin'],
    ['/public/./x?next=/admin&y=%2F..%2F', 'public', '/public/x?next=/admin&y=%2F..%2F'],
    ['/admin/../public/x?a=1&a=2', 'public', '/public/x?a=1&a=2'],
    ['/admin/..', '404', undefined],
    ['/public/..;/admin', '400', undefined],
    ['/public/.;/admin', '400', undefined],
    ['/public%2F..%2Fadmin', '400', undefined],
    ['/public/..%2Fadmin', '400', undefined],
    ['/public/%2e%2e%2fadmin', '400', undefined],
    ['/public/..%5Cadmin', '400', undefined],
    ['/public\\..\\admin', '400', undefined],
    ['/public/%00/../admin', '400', undefined],
    ['/public/%zz', '400', undefined],
  ])('%s → %s', async (sent, expected, receivedPath) => {
    const before = { public: publicPool.arrivals.length, admin: adminPool.arrivals.length }
    const response = await send({ port: latch.port, path: sent })
    const where = response.status === 200 ? (response.headers['x-upstream'] as string) : String(response.status)
    expect(where).toBe(expected)
    const grew = { public: publicPool.arrivals.length - before.public, admin: adminPool.arrivals.length - before.admin }
    expect(grew).toEqual({ public: expected === 'public' ? 1 : 0, admin: expected === 'admin' ? 1 : 0 })
    if (receivedPath !== undefined) {
      const pool = expected === 'public' ? publicPool : adminPool
      expect(pool.arrivals.at(-1)?.url).toBe(receivedPath)
    } else if (expected === '400') {
      expect(response.json).toMatchObject({ error: 'ERR_BAD_PATH', status: 400 })
    }
  })
})
