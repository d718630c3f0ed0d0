/**
 * `pools[].sessionPersistence` (GEP-1619 as a per-pool default) through the real CLI: it becomes the
 * pool's cookie or header affinity — Permanent cookies carry Max-Age = absoluteTimeout, Session cookies
 * none, the Header type returns its token in the named header and honours it, every session sticks to
 * its endpoint — and `latch check` refuses a pool that also has `affinity`, naming both keys and the line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../helpers/http-client.js'
import { runCli, startLatch, writeConfig, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

let upstreams: TestUpstream[]
let latch: LatchProcess

const POOLS: [string, object][] = [
  // released experimental field names
  ['perm', { type: 'Cookie', sessionName: 'shop', absoluteTimeout: '1h', idleTimeout: '10m', cookieConfig: { lifetimeType: 'Permanent' } }],
  // newer field names
  ['sess', { cookie: { name: 'cart', path: '/sess', lifetimeType: 'Session' }, absoluteTimeout: '2h' }],
  ['hdr', { type: 'Header', header: { name: 'X-Session' } }],
]

beforeAll(async () => {
  upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
  latch = await startLatch({
    config: {
      listen: ['127.0.0.1:0'],
      log: { level: 'info', access: 'off' },
      sessionSecrets: ['pool-persistence-secret-0123456789'],
      pools: POOLS.map(([name, sessionPersistence]) => ({ name, endpoints: upstreams.map((upstream) => upstream.url), sessionPersistence })),
      routes: { rules: [{ http: { paths: POOLS.map(([name]) => ({ path: `/${name}`, pathType: 'Prefix', backend: { service: { name } } })) } }] },
    },
  })
})

afterAll(async () => {
  await latch.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
})

function attributesOf(line: string): { pair: string; attributes: string[] } {
  const [pair, ...attributes] = line.split(';').map((part) => part.trim())
  return { pair: pair as string, attributes: attributes.sort() }
}

/** Ten requests carrying `headers`: the upstreams that answered. */
async function upstreamsFor(path: string, headers: Record<string, string>): Promise<Set<string>> {
  const seen = new Set<string>()
  for (let i = 0; i < 10; i++) {
    const response = await send({ port: latch.port, path, headers })
    expect(response.status).toBe(200)
    seen.add(String(response.headers['x-upstream']))
  }
  return seen
}

describe('pools[].sessionPersistence', () => {
  it('Cookie, Permanent (released names): the pool cookie carries Max-Age = absoluteTimeout, and the session sticks', async () => {
    const first = await send({ port: latch.port, path: '/perm/x' })
    const { pair, attributes } = attributesOf((first.headers['set-cookie'] ?? [])[0] as string)
    expect(pair).toMatch(/^shop=[A-Za-z0-9_-]{58}$/)
    expect(attributes).toEqual(['HttpOnly', 'Max-Age=3600', 'Path=/', 'SameSite=Lax'])
    expect(await upstreamsFor('/perm/x', { cookie: pair })).toEqual(new Set([first.headers['x-upstream']]))
  })

  it('Cookie, Session (newer names): no Max-Age, the cookie.path given', async () => {
    const first = await send({ port: latch.port, path: '/sess/x' })
    const { pair, attributes } = attributesOf((first.headers['set-cookie'] ?? [])[0] as string)
    expect(pair).toMatch(/^cart=[A-Za-z0-9_-]{58}$/)
    expect(attributes).toEqual(['HttpOnly', 'Path=/sess', 'SameSite=Lax'])
    expect(await upstreamsFor('/sess/x', { cookie: pair })).toEqual(new Set([first.headers['x-upstream']]))
  })

  it('Header: the token comes back in the named header and is honoured', async () => {
    const first = await send({ port: latch.port, path: '/hdr/x' })
    const token = first.headers['x-session']
    expect(token).toMatch(/^[A-Za-z0-9_-]{58}$/)
    expect(first.headers['set-cookie']).toBeUndefined()
    expect(await upstreamsFor('/hdr/x', { 'x-session': String(token) })).toEqual(new Set([first.headers['x-upstream']]))
  })

  it('latch check refuses a pool with both affinity and sessionPersistence, naming both keys and the line', async () => {
    const file = writeConfig(['pools:', '  - name: web', '    endpoints: [http://127.0.0.1:1]', '    affinity: { mode: cookie }', '    sessionPersistence:', '      type: Cookie', ''].join('\n'))
    const checked = await runCli(['check', '--config', file])
    expect(checked.code).toBe(1)
    expect(checked.stderr).toContain(`${file}: pools[0].sessionPersistence: both affinity and sessionPersistence are set — a pool takes its sticky sessions from one of them (sessionPersistence maps onto affinity); remove one of the two keys (line 6)`)
  })
})
