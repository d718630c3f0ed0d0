import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { localPoolAdmin } from '../../../src/admin/admin-routes.js'
import { createAdminServer } from '../../../src/admin/admin-server.js'
import { Readiness } from '../../../src/admin/readiness.js'
import { ConfigSchema } from '../../../src/config/schema.js'
import { createLogger } from '../../../src/observability/logger.js'
import { poolLogObserver } from '../../../src/observability/pool-log.js'
import { UpstreamPool } from '../../../src/upstream/upstream-pool.js'

describe('admin server', () => {
  const lines: Record<string, unknown>[] = []
  const logger = createLogger('info', new Writable({ write(chunk: Buffer, _encoding, done) { lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>); done() } }))
  let server: Server | undefined
  let pool: UpstreamPool | undefined

  async function start(scrape: () => Promise<string>): Promise<string> {
    const config = ConfigSchema.parse({ pools: [{ name: 'web', endpoints: ['http://127.0.0.1:1'] }] })
    pool = new UpstreamPool(config.pools[0] as (typeof config.pools)[number], poolLogObserver(logger))
    const pools = new Map([['web', pool]])
    server = createAdminServer({ ...localPoolAdmin(() => pools), readiness: new Readiness(), metrics: { contentType: 'text/plain; version=0.0.4; charset=utf-8', scrape }, token: undefined, logger })
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  afterEach(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
    server?.closeAllConnections()
    await pool?.close()
  })

  it('answers HEAD like GET without a body, and ignores the query string', async () => {
    const url = await start(async () => 'x 1\n')
    const head = await request(`${url}/healthz`, { method: 'HEAD' })
    expect(head.statusCode).toBe(200)
    expect(await head.body.text()).toBe('')
    const withQuery = await request(`${url}/metrics?debug=1`)
    expect(withQuery.statusCode).toBe(200)
    expect(withQuery.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(await withQuery.body.text()).toBe('x 1\n')
  })

  it('reads and ignores a POST body, keeping the connection usable, and logs the action with the peer', async () => {
    const url = await start(async () => '')
    const first = await request(`${url}/pools/web/endpoints/127.0.0.1:1/drain`, { method: 'POST', headers: { 'x-latch-admin': '1' }, body: 'ignored' })
    expect(first.statusCode).toBe(200)
    await first.body.dump()
    const second = await request(`${url}/pools/web/endpoints/127.0.0.1%3A1/undrain`, { method: 'POST', headers: { 'x-latch-admin': '1' }, body: 'ignored' })
    expect(((await second.body.json()) as { endpoint: { adminState: string } }).endpoint.adminState).toBe('active')
    expect(lines.filter((line) => line.msg === 'admin action').map((line) => [line.action, line.from, line.to, line.peer])).toEqual([
      ['drain', 'active', 'draining', '127.0.0.1'],
      ['undrain', 'draining', 'active', '127.0.0.1'],
    ])
  })

  it('turns an unexpected failure into 500 ERR_ADMIN_INTERNAL and logs it', async () => {
    const url = await start(() => Promise.reject(new Error('registry broke')))
    const response = await request(`${url}/metrics`)
    expect(response.statusCode).toBe(500)
    expect(await response.body.json()).toEqual({ error: 'ERR_ADMIN_INTERNAL', status: 500, message: 'internal error in the admin API; the log has details' })
    expect(lines.find((line) => line.msg === 'admin API call failed')).toMatchObject({ level: 'error', err: { message: 'registry broke' } })
  })
})
