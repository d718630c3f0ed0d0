/**
 * What a web page in the operator's browser can send to the admin listener, and what it must not get
 * through: cross-origin simple POSTs, DNS-rebinding hosts, names that look like loopback.
 */
import type { OutgoingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Writable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { localPoolAdmin } from '../../../src/admin/admin-routes.js'
import { createAdminServer } from '../../../src/admin/admin-server.js'
import { Readiness } from '../../../src/admin/readiness.js'
import { ConfigSchema } from '../../../src/config/schema.js'
import { createLogger } from '../../../src/observability/logger.js'
import { poolLogObserver } from '../../../src/observability/pool-log.js'
import { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { adminRequestAs } from '../../helpers/admin-client.js'

const TOKEN = 'unit-admin-token-0123456789'
const DRAIN = '/pools/web/endpoints/127.0.0.1%3A1/drain'

interface Reply {
  readonly status: number
  readonly body: { error?: string; message?: string; endpoint?: { adminState: string } }
}

describe('admin request guard', () => {
  const logger = createLogger('silent', new Writable({ write(_chunk, _encoding, done) { done() } }))
  let server: Server | undefined
  let pool: UpstreamPool | undefined
  let port = 0
  let host = '127.0.0.1'

  async function start(options: { token?: string; bind?: string; allowedHosts?: string[] } = {}): Promise<void> {
    const config = ConfigSchema.parse({ pools: [{ name: 'web', endpoints: ['http://127.0.0.1:1'] }] })
    pool = new UpstreamPool(config.pools[0] as (typeof config.pools)[number], poolLogObserver(logger))
    const pools = new Map([['web', pool]])
    server = createAdminServer({ ...localPoolAdmin(() => pools), readiness: new Readiness(), metrics: { contentType: 'text/plain', scrape: async () => '' }, token: options.token, allowedHosts: options.allowedHosts, logger })
    host = options.bind ?? '127.0.0.1'
    await new Promise<void>((resolve) => server?.listen(0, host, resolve))
    port = (server.address() as AddressInfo).port
  }

  /** One request with exactly these headers (Host as given). */
  async function send(method: string, path: string, headers: OutgoingHttpHeaders, body?: string): Promise<Reply> {
    const reply = await adminRequestAs(host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`, method, path, headers, body)
    return { status: reply.status, body: reply.body as Reply['body'] }
  }

  const authority = (): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)
  const adminState = async (): Promise<string | undefined> => ((await send('GET', '/pools', { host: authority() })).body as { pools?: { endpoints: { adminState: string }[] }[] }).pools?.[0]?.endpoints[0]?.adminState

  afterEach(async () => {
    await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
    server?.closeAllConnections()
    await pool?.close()
  })

  it('refuses a cross-origin simple POST (what a web page can send without a preflight) with 403', async () => {
    await start()
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', `https://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const reply = await send('POST', DRAIN, { host: authority(), origin, 'content-type': 'text/plain', 'x-latch-admin': '1' }, 'x')
      expect(reply.status, origin).toBe(403)
      expect(reply.body.error).toBe('ERR_ADMIN_ORIGIN_REFUSED')
      expect(reply.body.message).toContain(origin)
    }
    // The form-encoded POST a page can make with <form method=post>: refused as well.
    const form = await send('POST', DRAIN, { host: authority(), origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' }, 'a=1')
    expect(form.status).toBe(403)
    expect(await adminState()).toBe('active')
  })

  it('refuses a mutating call that a page could send without a preflight: no X-Latch-Admin header', async () => {
    await start()
    for (const headers of [{}, { 'content-type': 'text/plain' }, { 'x-latch-admin': 'yes' }]) {
      const reply = await send('POST', DRAIN, { host: authority(), ...headers })
      expect(reply.status).toBe(403)
      expect(reply.body.error).toBe('ERR_ADMIN_HEADER_REQUIRED')
      expect(reply.body.message).toContain('X-Latch-Admin: 1')
    }
    expect(await adminState()).toBe('active')
  })

  it('refuses a foreign Host with 421, reads included (DNS rebinding: the page\'s name points at 127.0.0.1)', async () => {
    await start()
    for (const hostHeader of [`evil.example:${port}`, 'evil.example', `127.evil.example:${port}`, `127.0.0.1.nip.io:${port}`, `localhost.evil.example:${port}`, `127.0.0.2:${port}`, `[::1]:${port}`, `127.0.0.1:${port + 1}`, `localhost:${port + 1}`, `127.0.0.1:x`]) {
      for (const [method, path, headers] of [['GET', '/pools', {}], ['POST', DRAIN, { 'x-latch-admin': '1' }]] as const) {
        const reply = await send(method, path, { host: hostHeader, ...headers })
        expect(reply.status, `${method} Host: ${hostHeader}`).toBe(421)
        expect(reply.body.error).toBe('ERR_ADMIN_HOST_REFUSED')
      }
    }
    expect(await adminState()).toBe('active')
  })

  it('accepts a curl-like call (no Origin) with the listener\'s address, localhost, or no port', async () => {
    await start()
    for (const hostHeader of [authority(), `localhost:${port}`, 'LOCALHOST', '127.0.0.1']) {
      expect((await send('GET', '/pools', { host: hostHeader })).status, hostHeader).toBe(200)
    }
    const drained = await send('POST', DRAIN, { host: authority(), 'x-latch-admin': '1' })
    expect(drained.status).toBe(200)
    expect(drained.body.endpoint?.adminState).toBe('draining')
  })

  it('accepts a same-origin call: a dashboard page served by the admin listener, with fetch() and a bearer token', async () => {
    await start({ token: TOKEN })
    const origin = `http://${authority()}`
    const headers = { host: authority(), origin, 'sec-fetch-site': 'same-origin', 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, 'x-latch-admin': '1' }
    expect((await send('GET', '/pools', { host: authority(), origin })).status).toBe(200)
    const reply = await send('POST', DRAIN, headers, '{}')
    expect(reply.status).toBe(200)
    expect(reply.body.endpoint?.adminState).toBe('draining')
    // The same page under the name localhost is its own origin too.
    expect((await send('POST', '/pools/web/endpoints/127.0.0.1%3A1/undrain', { ...headers, host: `localhost:${port}`, origin: `http://localhost:${port}` })).status).toBe(200)
    // The token is still required.
    const { authorization: _dropped, ...withoutToken } = headers
    expect((await send('POST', DRAIN, withoutToken)).body.error).toBe('ERR_ADMIN_UNAUTHORIZED')
  })

  it('on a listener bound to every interface, accepts the bound address and the connection\'s local address', async () => {
    await start({ bind: '0.0.0.0' })
    expect((await send('GET', '/pools', { host: `0.0.0.0:${port}` })).status).toBe(200)
    expect((await send('GET', '/pools', { host: `127.0.0.1:${port}` })).status).toBe(200)
    expect((await send('GET', '/pools', { host: `10.1.2.3:${port}` })).status).toBe(421)
  })

  it('accepts the names and ports of admin.allowedHosts (a Service name, a published port), and only those', async () => {
    await start({ allowedHosts: ['latch-admin.latch.svc', '127.0.0.1:19901'] })
    for (const hostHeader of [`latch-admin.latch.svc:${port}`, 'LATCH-ADMIN.latch.svc', '127.0.0.1:19901']) {
      expect((await send('GET', '/pools', { host: hostHeader })).status, hostHeader).toBe(200)
    }
    for (const hostHeader of ['127.0.0.1:19902', `evil.example:${port}`, `admin.latch.svc:${port}`]) {
      expect((await send('GET', '/pools', { host: hostHeader })).status, hostHeader).toBe(421)
    }
    const host = `latch-admin.latch.svc:${port}`
    expect((await send('POST', DRAIN, { host, origin: `http://${host}`, 'x-latch-admin': '1' })).status).toBe(200)
    expect((await send('POST', DRAIN, { host, origin: 'http://evil.example', 'x-latch-admin': '1' })).status).toBe(403)
  })

  it('on an IPv6 listener, accepts [::1] with its port and refuses another address', async () => {
    await start({ bind: '::1' })
    expect((await send('GET', '/pools', { host: `[::1]:${port}` })).status).toBe(200)
    expect((await send('GET', '/pools', { host: `[0:0:0:0:0:0:0:1]:${port}` })).status).toBe(200)
    expect((await send('POST', DRAIN, { host: `[::1]:${port}`, origin: `http://[::1]:${port}`, 'x-latch-admin': '1' })).status).toBe(200)
    expect((await send('GET', '/pools', { host: `127.0.0.1:${port}` })).status).toBe(421)
  })
})
