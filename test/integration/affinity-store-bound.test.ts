/**
 * Through the real CLI: `store.maxEntries` bounds the memory store. Clients without a cookie jar start
 * a session on every request and every client address binds in `client-ip` mode, so a burst of either
 * would otherwise grow memory without end. When full, the least recently used entry goes; a cookie
 * client stays stuck (its binding is in its token), the drop is counted in
 * `latch_store_evictions_total` and logged once (`STORE_FULL`), and every request is still served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Pool } from 'undici'
import { adminCall, scrapeMetrics } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { valueOf } from '../helpers/prometheus-text.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const MAX_ENTRIES = 200

describe('store.maxEntries: a bounded memory store', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  let client: Pool

  /** GET `path` with `headers`; the answering upstream, the affinity outcome and the cookie set. */
  async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; upstream: string; outcome: string; setCookie: string | undefined }> {
    const response = await client.request({ path, method: 'GET', headers })
    await response.body.dump()
    const setCookie = response.headers['set-cookie']
    return { status: response.statusCode, upstream: String(response.headers['x-upstream']), outcome: String(response.headers['x-latch-affinity']), setCookie: setCookie === undefined ? undefined : String(setCookie).split(';')[0] }
  }

  /** `count` requests, 16 at a time; `headersOf(i)` gives each one's headers. Returns the statuses seen. */
  async function flood(path: string, count: number, headersOf: (i: number) => Record<string, string>): Promise<Set<number>> {
    const statuses = new Set<number>()
    let next = 0
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < count) statuses.add((await get(path, headersOf(next++))).status)
    }))
    return statuses
  }

  async function liveSessions(pool: string): Promise<number> {
    const reply = await adminCall(latch, 'GET', '/pools')
    const found = (reply.body.pools as { name: string; endpoints: { sessions: number }[] }[]).find((candidate) => candidate.name === pool)
    return (found?.endpoints ?? []).reduce((sum, endpoint) => sum + endpoint.sessions, 0)
  }

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
    const endpoints = upstreams.map((upstream) => upstream.url)
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'off' },
        sessionSecrets: ['store-bound-test-secret-0123456789'],
        trustedProxies: ['127.0.0.1/32'],
        store: { maxEntries: MAX_ENTRIES },
        pools: [
          { name: 'web', endpoints, affinity: { mode: 'cookie', responseHeader: true } },
          { name: 'ip', endpoints, affinity: { mode: 'client-ip', responseHeader: true } },
        ],
        routes: { rules: [{ http: { paths: [
          { path: '/web', pathType: 'Prefix', backend: { service: { name: 'web' } } },
          { path: '/ip', pathType: 'Prefix', backend: { service: { name: 'ip' } } },
        ] } }] },
      },
    })
    client = new Pool(latch.url, { connections: 16 })
  })

  afterAll(async () => {
    await client?.close()
    await latch?.stop()
    await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  })

  it('cookie mode: 2,000 jar-less clients keep the live sessions at the bound; a client with a jar stays stuck; one STORE_FULL line', async () => {
    const first = await get('/web')
    expect(first.outcome).toBe('new')
    const cookie = first.setCookie as string
    expect(cookie).toMatch(/^latch=/)
    expect(await flood('/web', 2000, () => ({}))).toEqual(new Set([200]))
    expect(await liveSessions('web')).toBe(MAX_ENTRIES)
    // Its live-session entry was dropped long ago, but its binding travels in its token.
    const again = await get('/web', { cookie })
    expect(again.outcome).toBe('hit')
    expect(again.upstream).toBe(first.upstream)
    const { families } = await scrapeMetrics(latch)
    // 2,001 sessions, then the returning one counted live again: 2,002 entries made, MAX_ENTRIES kept.
    expect(valueOf(families, 'latch_store_evictions_total', { kind: 'session' })).toBe(2002 - MAX_ENTRIES)
    const full = latch.logs.filter((line) => line.code === 'STORE_FULL')
    expect(full).toHaveLength(1)
    expect(full[0]).toMatchObject({ level: 'warn', maxEntries: MAX_ENTRIES })
  })

  it('client-ip mode: 1,000 addresses keep the bindings at the bound; the address idle longest is re-picked, a recent one still hits', async () => {
    const address = (i: number): string => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
    expect((await get('/ip', { 'x-forwarded-for': address(0) })).outcome).toBe('new')
    expect(await flood('/ip', 1000, (i) => ({ 'x-forwarded-for': address(i + 1) }))).toEqual(new Set([200]))
    expect((await get('/ip', { 'x-forwarded-for': address(1000) })).outcome).toBe('hit')
    expect((await get('/ip', { 'x-forwarded-for': address(0) })).outcome).toBe('new')
    const { families } = await scrapeMetrics(latch)
    // 1,001 addresses bound, then address 0 again: 1,002 bindings made, MAX_ENTRIES kept.
    expect(valueOf(families, 'latch_store_evictions_total', { kind: 'binding' })).toBe(1002 - MAX_ENTRIES)
  })
})
