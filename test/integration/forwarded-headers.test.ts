/**
 * Golden header tests: exactly what the upstream receives (hop-by-hop removed, forwarding headers from
 * an untrusted peer replaced and from a trusted one extended, Via, request id, Host policy, RFC 7239
 * Forwarded) and what the client receives back (hop-by-hop removed, Set-Cookie kept separate,
 * trailers, bodiless HEAD/204/304, 103 Early Hints).
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLIENT_HEADERS, HOP_RESPONSE, PASSED_ON, respond } from '../helpers/header-fixtures.js'
import { send } from '../helpers/http-client.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { parseRawResponse, rawRequest } from '../helpers/raw-http.js'
import { startRawUpstream, type RawUpstream } from '../helpers/raw-upstream.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let web: TestUpstream
let custom: TestUpstream
let hop: RawUpstream

beforeAll(async () => {
  web = await startUpstream('web')
  custom = await startUpstream('custom', { mode: { kind: 'custom', handle: respond } })
  hop = await startRawUpstream(HOP_RESPONSE)
})
afterAll(async () => {
  await Promise.all([web.stop(), custom.stop(), hop.stop()])
})

function config(extra: object): object {
  const prefix = (path: string, pool: string) => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
  return {
    listen: '127.0.0.1:0',
    pools: [
      { name: 'web', endpoints: [web.url] },
      { name: 'rewrite', endpoints: [web.url], hostHeader: 'endpoint' },
      { name: 'fixed', endpoints: [web.url], hostHeader: 'backend.internal' },
      { name: 'custom', endpoints: [custom.url] },
      { name: 'hop', endpoints: [hop.url] },
    ],
    routes: {
      defaultBackend: { service: { name: 'web' } },
      rules: [{ http: { paths: [prefix('/rewrite', 'rewrite'), prefix('/fixed', 'fixed'), prefix('/r', 'custom'), prefix('/hop', 'hop')] } }],
    },
    ...extra,
  }
}

/** Sends the golden request and returns the raw header list the upstream received. */
async function upstreamHeaders(latch: LatchProcess, path: string, headers: string[] = CLIENT_HEADERS): Promise<string[]> {
  const response = await send({ port: latch.port, path, headers })
  expect(response.status).toBe(200)
  const arrival = web.arrivals.at(-1)
  expect(arrival?.url).toBe(path)
  return [...(arrival?.rawHeaders ?? [])]
}

describe('request headers, untrusted peer (no trustedProxies)', () => {
  let latch: LatchProcess
  beforeAll(async () => {
    latch = await startLatch({ config: config({}) })
  })
  afterAll(() => latch.stop())

  it('hop-by-hop and Connection-named headers are removed; forwarding headers are replaced', async () => {
    expect(await upstreamHeaders(latch, '/golden?q=1')).toEqual([
      ...PASSED_ON,
      'x-forwarded-for', '127.0.0.1',
      'x-forwarded-proto', 'http',
      'x-forwarded-host', 'App.Example.com:8080',
      'x-forwarded-port', String(latch.port),
      'via', '1.1 edge, 1.1 latch',
    ])
  })

  it('the access log names the socket peer, not the claimed X-Forwarded-For', async () => {
    const line = await waitFor(() => accessLines(latch).find((entry) => entry.path === '/golden'), 5000, 20, 'access line')
    expect(line.clientIp).toBe('127.0.0.1')
  })

  it('a minimal request gets generated forwarding headers, Via and a request id echoed to the client', async () => {
    const response = await send({ port: latch.port, path: '/plain', headers: { host: 'plain.test' } })
    const requestId = response.headers['x-request-id'] as string
    expect(requestId).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/)
    expect(web.arrivals.at(-1)?.rawHeaders).toEqual([
      'host', 'plain.test',
      'connection', 'keep-alive',
      'x-request-id', requestId,
      'x-forwarded-for', '127.0.0.1',
      'x-forwarded-proto', 'http',
      'x-forwarded-host', 'plain.test',
      'x-forwarded-port', String(latch.port),
      'via', '1.1 latch',
    ])
  })

  it('an HTTP/1.0 request without Host is forwarded without X-Forwarded-Host (not an empty one)', async () => {
    const result = await rawRequest(latch.port, 'GET /no-host HTTP/1.0\r\n\r\n')
    expect(result.status).toBe(200)
    const arrival = web.arrivals.at(-1)
    expect(arrival?.url).toBe('/no-host')
    const names = (arrival?.rawHeaders ?? []).filter((_, index) => index % 2 === 0)
    expect(names).not.toContain('x-forwarded-host')
    expect(names).toEqual(expect.arrayContaining(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-port', 'via']))
  })

  it('an unusable incoming request id is replaced by a generated one', async () => {
    const response = await send({ port: latch.port, path: '/bad-id', headers: { host: 'plain.test', 'x-request-id': 'has spaces and "quotes"' } })
    const sent = web.arrivals.at(-1)?.headers['x-request-id']
    expect(sent).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/)
    expect(response.headers['x-request-id']).toBe(sent)
  })

  it('hostHeader: endpoint sends the endpoint authority as Host', async () => {
    const headers = await upstreamHeaders(latch, '/rewrite', ['Host', 'app.test'])
    expect(headers.slice(0, 2)).toEqual(['host', new URL(web.url).host])
    expect(headers).toContain('app.test') // still visible as X-Forwarded-Host
  })

  it('hostHeader: <name> sends that name as Host', async () => {
    const headers = await upstreamHeaders(latch, '/fixed', ['Host', 'app.test'])
    expect(headers.slice(0, 2)).toEqual(['host', 'backend.internal'])
  })
})

describe('request headers, trusted peer (trustedProxies: 127.0.0.1/32, headers.forwarded: true)', () => {
  let latch: LatchProcess
  beforeAll(async () => {
    latch = await startLatch({ config: config({ trustedProxies: ['127.0.0.1/32'], headers: { forwarded: true } }) })
  })
  afterAll(() => latch.stop())

  it('X-Forwarded-For is appended, the other forwarding headers and Forwarded are kept and extended', async () => {
    expect(await upstreamHeaders(latch, '/golden?q=1')).toEqual([
      ...PASSED_ON,
      'x-forwarded-for', '203.0.113.7, 127.0.0.1',
      'x-forwarded-proto', 'https',
      'x-forwarded-host', 'public.example',
      'x-forwarded-port', '443',
      'forwarded', 'for=203.0.113.7;proto=https, for=127.0.0.1;proto=http;host="App.Example.com:8080"',
      'via', '1.1 edge, 1.1 latch',
    ])
  })

  it('an HTTP/1.0 request without Host keeps a trusted X-Forwarded-Host, and Forwarded has no host=', async () => {
    const result = await rawRequest(latch.port, 'GET /no-host-trusted HTTP/1.0\r\nX-Forwarded-Host: public.example\r\n\r\n')
    expect(result.status).toBe(200)
    const headers = web.arrivals.at(-1)?.headers ?? {}
    expect(headers['x-forwarded-host']).toBe('public.example')
    expect(headers.forwarded).toBe('for=127.0.0.1;proto=http')
  })

  it('the access log names the client from the trusted chain', async () => {
    const line = await waitFor(() => accessLines(latch).find((entry) => entry.path === '/golden'), 5000, 20, 'access line')
    expect(line.clientIp).toBe('203.0.113.7')
  })

  it('X-Forwarded-Proto follows a trusted Forwarded proto= when the peer sent no X-Forwarded-Proto', async () => {
    const headers = await upstreamHeaders(latch, '/proto', ['Host', 'plain.test', 'Forwarded', 'for=203.0.113.7;proto=https'])
    expect(headers[headers.indexOf('x-forwarded-proto') + 1]).toBe('https')
  })

  it('Forwarded is generated when the client sent none', async () => {
    const headers = await upstreamHeaders(latch, '/plain', ['Host', 'plain.test'])
    expect(headers).toContain('for=127.0.0.1;proto=http;host="plain.test"')
  })
})

describe('response headers and bodies', () => {
  let latch: LatchProcess
  beforeAll(async () => {
    latch = await startLatch({ config: config({}) })
  })
  afterAll(() => latch.stop())

  it('hop-by-hop headers (and those the upstream Connection names) are removed; Set-Cookie stays separate', async () => {
    const raw = await rawRequest(latch.port, 'GET /hop HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')
    const lines = raw.text.split('\r\n\r\n')[0]?.split('\r\n') ?? []
    expect(lines[0]).toBe('HTTP/1.1 200 OK')
    const names = lines.slice(1).map((line) => line.slice(0, line.indexOf(':')).toLowerCase())
    expect(names).not.toContain('x-secret-hop')
    expect(names).not.toContain('proxy-authenticate')
    expect(names).not.toContain('proxy-connection')
    expect(names).not.toContain('upgrade')
    expect(names).not.toContain('keep-alive')
    expect(lines.filter((line) => /^set-cookie:/i.test(line))).toEqual(['Set-Cookie: a=1; Path=/', 'Set-Cookie: b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT'])
    expect(lines).toContain('X-Kept: yes')
    expect(raw.text.endsWith('\r\n\r\nok')).toBe(true)
  })

  it('trailers are forwarded', async () => {
    const response = await send({ port: latch.port, path: '/r/trailers', headers: { host: 'app.test', te: 'trailers' } })
    expect(custom.arrivals.at(-1)?.url).toBe('/r/trailers')
    expect(response.body).toBe('abc')
    expect(response.trailers).toEqual({ 'x-checksum': 'sha-xyz' })
  })

  it.each([
    ['HEAD', '/r/head', 200, { 'content-length': '1234' }],
    ['GET', '/r/no-content', 204, { 'x-kind': 'no-content' }],
    ['GET', '/r/not-modified', 304, { etag: '"v1"' }],
  ])('%s %s → %i carries its headers and no body bytes', async (method, path, status, headers) => {
    const raw = await rawRequest(latch.port, `${method} ${path} HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n`)
    const response = parseRawResponse(raw.text)
    expect(response.status).toBe(status)
    expect(response.headers).toMatchObject(headers)
    expect(response.headers['transfer-encoding']).toBeUndefined()
    expect(response.body).toBe('')
  })

  it('103 Early Hints are forwarded before the final response', async () => {
    const hints: { status: number | undefined; link: unknown }[] = []
    const body = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: latch.port, path: '/r/hints', headers: { host: 'app.test' }, agent: false }, (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () => resolve(`${res.statusCode} ${text}`))
      })
      req.on('information', (info) => hints.push({ status: info.statusCode, link: info.headers.link }))
      req.on('error', reject)
      req.end()
    })
    expect(hints).toEqual([{ status: 103, link: '</style.css>; rel=preload; as=style' }])
    expect(body).toBe('200 after hints')
  })
})
