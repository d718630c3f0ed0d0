/**
 * The affinity cookie's attributes as a browser receives them, through the real CLI: defaults (Path=/,
 * HttpOnly, SameSite=Lax, a session cookie without Max-Age or Expires), every option (name, path,
 * domain, httpOnly, sameSite, secure, maxAge, idleTimeout), `SameSite=None` forcing `Secure`, and
 * `secure: auto` following TLS or a *trusted* `X-Forwarded-Proto: https` only. The cookie is removed
 * from the request sent upstream unless `forwardToUpstream` is set.
 */
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../helpers/http-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

/** Requests from this address come from a trusted proxy; those from 127.0.0.1 do not. */
const TRUSTED_PEER = '127.0.0.2'

let upstreams: TestUpstream[]
let latch: LatchProcess

function prefix(path: string, pool: string): object {
  return { path, pathType: 'Prefix', backend: { service: { name: pool } } }
}

beforeAll(async () => {
  upstreams = await Promise.all(['a', 'b'].map((name) => startUpstream(name)))
  const urls = upstreams.map((upstream) => upstream.url)
  const pools: [string, object][] = [
    ['plain', {}],
    ['custom', { name: 'sticky', path: '/custom', domain: 'example.com', httpOnly: false, sameSite: 'Strict', maxAge: '1h' }],
    ['both', { maxAge: '2h', idleTimeout: '20m' }],
    ['none', { sameSite: 'None' }],
    ['always', { secure: 'always' }],
    ['never', { secure: 'never' }],
    ['forward', { forwardToUpstream: true }],
    ['prefixed', { name: '__Host-latch' }],
  ]
  latch = await startLatch({
    config: {
      listen: ['127.0.0.1:0', { address: '127.0.0.7:0', http2: 'h2c' }],
      log: { level: 'info', access: 'off' },
      trustedProxies: [`${TRUSTED_PEER}/32`],
      sessionSecrets: ['attribute-test-secret-0123456789'],
      pools: pools.map(([name, cookie]) => ({ name, endpoints: urls, affinity: { mode: 'cookie', responseHeader: true, cookie } })),
      routes: { rules: [{ http: { paths: pools.map(([name]) => prefix(`/${name}`, name)) } }] },
    },
  })
})

afterAll(async () => {
  await latch.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
})

/** The Set-Cookie line for a new session of `/pool`, split into its name=value and attributes. */
async function newCookie(pool: string, headers: Record<string, string> = {}, localAddress?: string): Promise<{ pair: string; attributes: string[]; line: string }> {
  const response = await send({ port: latch.port, path: `/${pool}/x`, headers, ...(localAddress === undefined ? {} : { localAddress }) })
  expect(response.status).toBe(200)
  expect(response.headers['x-latch-affinity']).toBe('new')
  const lines = response.headers['set-cookie'] ?? []
  expect(lines).toHaveLength(1)
  const line = lines[0] as string
  const [pair, ...attributes] = line.split(';').map((part) => part.trim())
  return { pair: pair as string, attributes, line }
}

describe('affinity cookie attributes', () => {
  it('defaults: name latch, Path=/, HttpOnly, SameSite=Lax, not Secure on plain HTTP, and a session cookie (no Max-Age, no Expires)', async () => {
    const { pair, attributes } = await newCookie('plain')
    expect(pair).toMatch(/^latch=[A-Za-z0-9_-]{58}$/)
    expect(attributes.sort()).toEqual(['HttpOnly', 'Path=/', 'SameSite=Lax'])
  })

  it('name, path, domain, httpOnly: false, sameSite: Strict and maxAge are applied', async () => {
    const { pair, attributes } = await newCookie('custom')
    expect(pair).toMatch(/^sticky=[A-Za-z0-9_-]{58}$/)
    expect(attributes.sort()).toEqual(['Domain=example.com', 'Max-Age=3600', 'Path=/custom', 'SameSite=Strict'])
  })

  it('with maxAge and idleTimeout, the cookie lives for the shorter of the two', async () => {
    const { attributes } = await newCookie('both')
    expect(attributes).toContain('Max-Age=1200')
    expect(attributes.some((attribute) => attribute.startsWith('Expires'))).toBe(false)
  })

  it('SameSite=None forces Secure, even on plain HTTP', async () => {
    const { attributes } = await newCookie('none')
    expect(attributes).toEqual(expect.arrayContaining(['SameSite=None', 'Secure']))
  })

  it('secure: always sets Secure on plain HTTP; secure: never leaves it out even for https', async () => {
    expect((await newCookie('always')).attributes).toContain('Secure')
    expect((await newCookie('never', { 'x-forwarded-proto': 'https' }, TRUSTED_PEER)).attributes).not.toContain('Secure')
  })

  it('a __Host- cookie name gets Secure even on plain HTTP (browsers drop it otherwise), with Path=/ and no Domain', async () => {
    const { pair, attributes } = await newCookie('prefixed')
    expect(pair.startsWith('__Host-latch=')).toBe(true)
    expect(attributes).toEqual(expect.arrayContaining(['Secure', 'Path=/']))
    expect(attributes.some((attribute) => attribute.startsWith('Domain'))).toBe(false)
  })

  it('secure: auto sets Secure for X-Forwarded-Proto: https from a trusted proxy only', async () => {
    expect((await newCookie('plain', { 'x-forwarded-proto': 'https' }, TRUSTED_PEER)).attributes).toContain('Secure')
    expect((await newCookie('plain', { 'x-forwarded-proto': 'http' }, TRUSTED_PEER)).attributes).not.toContain('Secure')
    // From an untrusted peer the header is the client's own claim: ignored.
    expect((await newCookie('plain', { 'x-forwarded-proto': 'https' })).attributes).not.toContain('Secure')
    expect((await newCookie('plain', { forwarded: 'proto=https' })).attributes).not.toContain('Secure')
  })

  it('secure: auto also reads an RFC 7239 Forwarded chain from a trusted proxy, at the element of the outermost trusted hop', async () => {
    expect((await newCookie('plain', { forwarded: 'for=203.0.113.7;proto=https' }, TRUSTED_PEER)).attributes).toContain('Secure')
    // The right-most element came from another trusted proxy: the one before it describes the client.
    expect((await newCookie('plain', { forwarded: 'for=203.0.113.7;proto=https, for=127.0.0.2;proto=http' }, TRUSTED_PEER)).attributes).toContain('Secure')
    // The client wrote its own https element in front; the trusted proxy's element says http.
    expect((await newCookie('plain', { forwarded: 'for=198.51.100.1;proto=https, for=203.0.113.7;proto=http' }, TRUSTED_PEER)).attributes).not.toContain('Secure')
    // X-Forwarded-Proto, when present, is what counts.
    expect((await newCookie('plain', { 'x-forwarded-proto': 'http', forwarded: 'for=203.0.113.7;proto=https' }, TRUSTED_PEER)).attributes).not.toContain('Secure')
  })

  it('the affinity cookie is removed from the upstream request, other cookies are kept in order', async () => {
    const { pair } = await newCookie('plain')
    const response = await send({ port: latch.port, path: '/plain/x', headers: { cookie: `a=1; ${pair}; b=2` } })
    expect(response.headers['x-latch-affinity']).toBe('hit')
    const seen = (response.json as { headers: Record<string, string | undefined> }).headers
    expect(seen.cookie).toBe('a=1; b=2')
    const alone = await send({ port: latch.port, path: '/plain/x', headers: { cookie: pair } })
    expect((alone.json as { headers: Record<string, string | undefined> }).headers.cookie).toBeUndefined()
  })

  it('forwardToUpstream: true keeps the affinity cookie in the upstream request', async () => {
    const { pair } = await newCookie('forward')
    const response = await send({ port: latch.port, path: '/forward/x', headers: { cookie: `a=1; ${pair}` } })
    expect(response.headers['x-latch-affinity']).toBe('hit')
    expect((response.json as { headers: Record<string, string | undefined> }).headers.cookie).toBe(`a=1; ${pair}`)
  })

  it('a cookie in use without idleTimeout is never rewritten', async () => {
    const { pair } = await newCookie('custom')
    for (let i = 0; i < 5; i++) {
      const response = await send({ port: latch.port, path: '/custom/x', headers: { cookie: pair } })
      expect(response.headers['x-latch-affinity']).toBe('hit')
      expect(response.headers['set-cookie']).toBeUndefined()
    }
  })

  it('an upstream\'s own Set-Cookie headers are relayed next to the affinity cookie', async () => {
    const own = upstreams.map((upstream) => {
      const previous = upstream.mode
      upstream.mode = { kind: 'custom', handle: (_req, res) => {
        res.writeHead(200, { 'set-cookie': ['app=1; Path=/', 'other=2'], 'x-upstream': upstream.name })
        res.end('ok')
      } }
      return previous
    })
    try {
      const response = await send({ port: latch.port, path: '/plain/x' })
      const lines = response.headers['set-cookie'] ?? []
      expect(lines).toHaveLength(3)
      expect(lines.filter((line) => line.startsWith('latch='))).toHaveLength(1)
      expect(lines).toEqual(expect.arrayContaining(['app=1; Path=/', 'other=2']))
    } finally {
      upstreams.forEach((upstream, index) => (upstream.mode = own[index] as TestUpstream['mode']))
    }
  })

  it('over HTTP/2 (h2c), cookie crumbs in separate header fields are read as one Cookie list', async () => {
    const { pair } = await newCookie('plain')
    const first = await newCookie('plain')
    expect(first.pair).not.toBe(pair)
    const session = h2connect(latch.urls[1] as string)
    try {
      const answer = await new Promise<{ headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
        const stream = session.request({ ':path': '/plain/x', cookie: ['a=1', pair, 'b=2'] })
        let headers: IncomingHttpHeaders = {}
        let body = ''
        stream.on('response', (received) => (headers = received))
        stream.on('data', (chunk: Buffer) => (body += chunk.toString()))
        stream.on('end', () => resolve({ headers, body }))
        stream.on('error', reject)
        stream.end()
      })
      expect(answer.headers[':status']).toBe(200)
      expect(answer.headers['x-latch-affinity']).toBe('hit')
      expect((JSON.parse(answer.body) as { headers: Record<string, string> }).headers.cookie).toBe('a=1; b=2')
    } finally {
      session.close()
    }
  })
})
