/**
 * The admin API cannot be driven by a web page, in one process and with `--workers 2` (where the
 * supervisor serves it): a cross-origin POST, a DNS-rebinding Host and a `127.`-prefixed name are
 * refused; curl-like calls and same-origin calls (a page served by the admin listener) still work.
 */
import type { OutgoingHttpHeaders } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall, adminRequestAs } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const TOKEN = 'browser-safety-token-0123456789'

/** One request with exactly these headers; the status and the error code of the reply. */
async function send(adminUrl: string, method: string, path: string, headers: OutgoingHttpHeaders): Promise<{ status: number; error: unknown }> {
  const reply = await adminRequestAs(adminUrl, method, path, headers, method === 'POST' ? 'x' : undefined)
  return { status: reply.status, error: reply.body.error }
}

describe.each([1, 2])('admin API against web pages (workers: %i)', (workers) => {
  let upstream: TestUpstream
  let latch: LatchProcess
  let admin: string
  let authority: string
  let drain: string

  beforeAll(async () => {
    upstream = await startUpstream('only')
    latch = await startLatch({ config: { workers, listen: '127.0.0.1:0', admin: { listen: '127.0.0.1:0', token: TOKEN }, pools: [{ name: 'web', endpoints: [upstream.url] }] }, timeoutMs: 20_000 })
    admin = latch.adminUrl as string
    authority = new URL(admin).host
    drain = `/pools/web/endpoints/127.0.0.1%3A${upstream.port}/drain`
  })

  afterAll(async () => {
    await latch.stop()
    await upstream.stop()
  })

  const adminState = async (): Promise<string | undefined> => ((await adminCall(latch, 'GET', '/pools')).body.pools as { endpoints: { adminState: string }[] }[])[0]?.endpoints[0]?.adminState

  it('refuses a cross-origin POST with 403 ERR_ADMIN_ORIGIN_REFUSED, even with the token and header', async () => {
    const simple = await send(admin, 'POST', drain, { host: authority, origin: 'http://evil.example', 'content-type': 'text/plain' })
    expect(simple).toEqual({ status: 403, error: 'ERR_ADMIN_ORIGIN_REFUSED' })
    const full = await send(admin, 'POST', drain, { host: authority, origin: 'http://evil.example', 'x-latch-admin': '1', authorization: `Bearer ${TOKEN}` })
    expect(full).toEqual({ status: 403, error: 'ERR_ADMIN_ORIGIN_REFUSED' })
    expect(await adminState()).toBe('active')
  })

  it('refuses a foreign Host with 421 ERR_ADMIN_HOST_REFUSED (DNS rebinding), and a name that starts with "127."', async () => {
    const port = new URL(admin).port
    for (const host of [`evil.example:${port}`, `127.evil.example:${port}`]) {
      expect(await send(admin, 'GET', '/pools', { host })).toEqual({ status: 421, error: 'ERR_ADMIN_HOST_REFUSED' })
      expect(await send(admin, 'POST', drain, { host, origin: `http://${host}`, 'x-latch-admin': '1', authorization: `Bearer ${TOKEN}` })).toEqual({ status: 421, error: 'ERR_ADMIN_HOST_REFUSED' })
    }
    expect(await adminState()).toBe('active')
  })

  it('refuses a mutating call without X-Latch-Admin: 1 (403 ERR_ADMIN_HEADER_REQUIRED)', async () => {
    const reply = await adminCall(latch, 'POST', drain, { token: TOKEN, adminHeader: false })
    expect(reply.status).toBe(403)
    expect(reply.body.error).toBe('ERR_ADMIN_HEADER_REQUIRED')
    expect(await adminState()).toBe('active')
  })

  it('accepts a curl-like call (no Origin) and a same-origin one with a bearer token (a dashboard page)', async () => {
    const curl = await adminCall(latch, 'POST', drain, { token: TOKEN })
    expect(curl.status).toBe(200)
    expect(await adminState()).toBe('draining')
    const sameOrigin = await send(admin, 'POST', drain.replace(/drain$/, 'undrain'), { host: authority, origin: admin, 'content-type': 'application/json', 'x-latch-admin': '1', authorization: `Bearer ${TOKEN}` })
    expect(sameOrigin.status).toBe(200)
    expect(await adminState()).toBe('active')
  })
})
