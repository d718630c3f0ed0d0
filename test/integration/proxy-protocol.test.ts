/**
 * PROXY protocol listeners through the real CLI, over cleartext and TLS (HTTP/1.1 and HTTP/2): the
 * address the header carries is the client for `client-ip` affinity, `X-Forwarded-For`, `Forwarded`
 * and the access log; LOCAL and UNKNOWN keep the real peer; connections from untrusted sources, or
 * with a missing, malformed or truncated header, are closed without a byte of HTTP; random bytes in
 * place of the header neither crash nor hang the process.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { connect as http2Connect } from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { connect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestCa, type TestCa } from '../helpers/certificates.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { proxyV1, proxyV2 } from '../helpers/proxy-protocol.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let upstreams: TestUpstream[]
let latch: LatchProcess
let ca: TestCa
let plainPort: number
let tlsPort: number

beforeAll(async () => {
  upstreams = await Promise.all(['a', 'b', 'c', 'd'].map((name) => startUpstream(name)))
  ca = createTestCa()
  const front = ca.issue('front', 'latch.test', ['DNS:latch.test'])
  const proxyProtocol = { proxyProtocol: 'either', proxyProtocolFrom: ['127.0.0.1/32', '::1/128'] }
  latch = await startLatch({
    config: {
      listen: [{ address: '127.0.0.1:0', ...proxyProtocol }, { address: '127.0.0.2:0', tls: { cert: front.cert, key: front.key }, ...proxyProtocol }],
      log: { level: 'info', access: 'stdout' },
      // The balancer's clients may themselves be behind a trusted hop (10.0.0.0/8): then X-Forwarded-For is read on from there.
      trustedProxies: ['10.0.0.0/8'],
      headers: { forwarded: true },
      pools: [{ name: 'ip', endpoints: upstreams.map((upstream) => upstream.url), affinity: { mode: 'client-ip', responseHeader: true } }],
    },
  })
  ;[plainPort, tlsPort] = latch.urls.map((url) => Number(new URL(url).port)) as [number, number]
})

afterAll(async () => {
  await latch?.stop()
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
})

interface Reply {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly requestId: string
}

/** The cleartext listener is on 127.0.0.1, the TLS one on 127.0.0.2 (listeners are keyed by address). */
const hostOf = (port: number): string => (port === tlsPort ? '127.0.0.2' : '127.0.0.1')

/** A TCP connection to Latch from `localAddress` that starts with `header`. */
function rawConnection(port: number, header: Buffer, localAddress = '127.0.0.1'): Socket {
  const socket = connect({ port, host: hostOf(port), localAddress })
  socket.write(header)
  return socket
}

/** One HTTP/1.1 request over a connection that first sends `header` (TLS after it when `tls`). */
function requestWith(header: Buffer, options: { tls?: boolean; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const raw = (): Socket => rawConnection(options.tls === true ? tlsPort : plainPort, header)
    const common = { path: '/x', headers: { host: 'latch.test', connection: 'close', ...options.headers } }
    const req = options.tls === true
      ? httpsRequest({ ...common, createConnection: () => tlsConnect({ socket: raw(), servername: 'latch.test', ca: readFileSync(ca.caCert), ALPNProtocols: ['http/1.1'] }) })
      : httpRequest({ ...common, createConnection: raw })
    req.on('response', (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, requestId: String(res.headers['x-request-id']) }))
    })
    req.on('error', reject)
    req.end()
  })
}

/** One HTTP/2 request over TLS after `header`. */
function h2RequestWith(header: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const session = http2Connect(`https://latch.test:${tlsPort}`, { createConnection: () => tlsConnect({ socket: rawConnection(tlsPort, header), servername: 'latch.test', ca: readFileSync(ca.caCert), ALPNProtocols: ['h2'] }) })
    session.on('error', reject)
    const stream = session.request({ ':path': '/x' })
    stream.on('response', (headers) => {
      stream.resume()
      stream.on('end', () => {
        session.close()
        resolve({ status: Number(headers[':status']), headers: headers as IncomingHttpHeaders, requestId: String(headers['x-request-id']) })
      })
    })
    stream.on('error', reject)
    stream.end()
  })
}

/** What the endpoint and the access log saw for a request. */
async function seenFor(reply: Reply): Promise<{ xForwardedFor: unknown; forwarded: unknown; clientIp: unknown }> {
  expect(reply.status).toBe(200)
  const arrival = upstreams.flatMap((upstream) => upstream.arrivals).find((item) => item.headers['x-request-id'] === reply.requestId)
  const line = await waitFor(() => accessLines(latch).find((item) => item.reqId === reply.requestId), 5000, 20, 'access line')
  return { xForwardedFor: arrival?.headers['x-forwarded-for'], forwarded: arrival?.headers.forwarded, clientIp: line.clientIp }
}

const cases: [string, Buffer, string][] = [
  ['v1 TCP4', proxyV1('203.0.113.10'), '203.0.113.10'],
  ['v1 TCP6', proxyV1('2001:db8::10'), '2001:db8::10'],
  ['v1 UNKNOWN', proxyV1(), '127.0.0.1'],
  ['v2 TCP4', proxyV2({ source: '198.51.100.20', tlvs: Buffer.from([0x04, 0x00, 0x02, 0x68, 0x69]) }), '198.51.100.20'],
  ['v2 TCP6', proxyV2({ source: '2001:db8::20' }), '2001:db8::20'],
  ['v2 LOCAL', proxyV2({ command: 'LOCAL', source: '198.51.100.21' }), '127.0.0.1'],
]

describe.each([false, true])('over %s', (tls) => {
  it.each(cases)('%s: the header\'s address reaches X-Forwarded-For, Forwarded and the access log', async (_name, header, client) => {
    const seen = await seenFor(await requestWith(header, { tls }))
    expect(seen.xForwardedFor).toBe(client)
    expect(seen.forwarded).toContain(client.includes(':') ? `for="[${client}]"` : `for=${client}`)
    expect(seen.clientIp).toBe(client)
  })
})

describe('client address semantics', () => {
  it('HTTP/2 over a TLS PROXY listener carries the header\'s address too', async () => {
    const seen = await seenFor(await h2RequestWith(proxyV2({ source: '192.0.2.30' })))
    expect(seen.clientIp).toBe('192.0.2.30')
    expect(seen.xForwardedFor).toBe('192.0.2.30')
  })

  it('client-ip affinity follows the header: one endpoint per client across connections, different clients spread', async () => {
    const endpoints = new Map<string, string>()
    for (let i = 1; i <= 24; i++) {
      const client = `203.0.113.${100 + i}`
      const first = await requestWith(i % 2 === 0 ? proxyV1(client, 1000 + i) : proxyV2({ source: client }), { tls: i % 3 === 0 })
      const again = await requestWith(proxyV2({ source: client, sourcePort: 2000 + i }), { tls: i % 3 !== 0 })
      expect(again.headers['x-upstream'], client).toBe(first.headers['x-upstream'])
      endpoints.set(client, String(first.headers['x-upstream']))
    }
    // Every request came from 127.0.0.1: without PROXY protocol they would all share one endpoint.
    expect(new Set(endpoints.values()).size).toBeGreaterThan(1)
  })

  it('the header\'s address is the peer for trustedProxies: a trusted balancer client\'s X-Forwarded-For is read on', async () => {
    const trustedHop = await seenFor(await requestWith(proxyV1('10.1.2.3'), { headers: { 'x-forwarded-for': '198.51.100.77' } }))
    expect(trustedHop.clientIp).toBe('198.51.100.77')
    expect(trustedHop.xForwardedFor).toBe('198.51.100.77, 10.1.2.3')
    const untrusted = await seenFor(await requestWith(proxyV1('203.0.113.8'), { headers: { 'x-forwarded-for': '198.51.100.77' } }))
    expect(untrusted.clientIp).toBe('203.0.113.8')
    expect(untrusted.xForwardedFor).toBe('203.0.113.8')
  })
})

/** Sends `bytes` on a fresh connection (optionally from `localAddress`) and reports what came back before the close. */
function refusedWith(port: number, bytes: Buffer, options: { localAddress?: string; end?: boolean } = {}): Promise<{ received: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: hostOf(port), localAddress: options.localAddress ?? '127.0.0.1' })
    let received = ''
    const timer = setTimeout(() => finish(false), 6000)
    const finish = (closed: boolean): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ received, closed })
    }
    socket.on('connect', () => (options.end === true ? socket.end(bytes) : socket.write(bytes)))
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
    socket.on('close', () => finish(true))
    socket.on('error', () => {})
  })
}

const REQUEST = Buffer.from('GET /x HTTP/1.1\r\nHost: latch.test\r\n\r\n', 'latin1')

describe('refusals: closed without an HTTP response', () => {
  const refusals: [string, Buffer, { localAddress?: string; end?: boolean }][] = [
    ['from an untrusted source', Buffer.concat([proxyV1('203.0.113.1'), REQUEST]), { localAddress: '127.0.0.2' }],
    ['missing (plain HTTP)', REQUEST, {}],
    ['malformed v1', Buffer.concat([Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n'), REQUEST]), {}],
    ['malformed v2 (bad command)', Buffer.concat([Buffer.from(proxyV2({ source: '1.2.3.4' })).fill(0x25, 12, 13), REQUEST]), {}],
    ['truncated v1 (connection ends mid-header)', Buffer.from('PROXY TCP4 1.2.3.4 '), { end: true }],
    ['truncated v2 (connection ends mid-header)', proxyV2({ source: '2001:db8::1' }).subarray(0, 30), { end: true }],
  ]

  it.each(refusals)('%s', async (_name, bytes, options) => {
    for (const port of [plainPort, tlsPort]) {
      const result = await refusedWith(port, bytes, options)
      expect(result).toEqual({ received: '', closed: true })
    }
  })

  it('a header that never completes is dropped after the header timeout (3 s)', async () => {
    const result = await refusedWith(plainPort, Buffer.from('PROXY TCP4 1.2.3.4 '))
    expect(result).toEqual({ received: '', closed: true })
  })

  it('counts refusals by reason and logs them at a bounded rate', async () => {
    const metrics = await (await fetch(`${latch.adminUrl}/metrics`)).text()
    for (const reason of ['untrusted', 'missing', 'malformed', 'truncated']) expect(metrics).toMatch(new RegExp(`latch_proxy_protocol_refused_total\\{listener="127\\.0\\.0\\.[12]:0",reason="${reason}"\\} [1-9]`))
    const logged = latch.logs.filter((line) => line.msg?.startsWith('refused a connection: no valid PROXY protocol header') === true)
    expect(logged.length).toBeGreaterThan(0)
    // Far more refusals than lines: one line per listener per 10 s.
    expect(logged.length).toBeLessThanOrEqual(4)
  })

  it('random bytes in place of the header never crash or hang it; a proper request still works afterwards', async () => {
    for (let i = 0; i < 200; i++) {
      const noise = randomBytes(1 + (i * 7) % 300)
      // Half of them after a valid signature, where the parser has more to get wrong.
      const bytes = i % 2 === 0 ? noise : Buffer.concat([i % 4 === 1 ? Buffer.from('PROXY ') : proxyV2({}).subarray(0, 12), noise])
      const result = await refusedWith(i % 3 === 0 ? tlsPort : plainPort, bytes, { end: true })
      // Closed, whatever it was: refused, or (by a rare chance) a valid header and then bytes no server accepts.
      expect(result.closed).toBe(true)
    }
    expect(latch.child.exitCode).toBe(null)
    expect((await requestWith(proxyV1('203.0.113.250'))).status).toBe(200)
    expect((await requestWith(proxyV2({ source: '203.0.113.251' }), { tls: true })).status).toBe(200)
  }, 60_000)
})

describe('with workers', () => {
  it('with workers: 2 (connections shared round robin between them), the header\'s addresses pass on and plain HTTP is refused', async () => {
    const workers = await startLatch({
      config: {
        workers: 2,
        listen: [{ address: '127.0.0.1:0', proxyProtocol: 'v2', proxyProtocolFrom: ['127.0.0.1/32'] }],
        pools: [{ name: 'ip', endpoints: upstreams.map((upstream) => upstream.url) }],
      },
      timeoutMs: 20_000,
    })
    try {
      const port = Number(new URL(workers.url).port)
      for (let i = 1; i <= 8; i++) {
        const client = `192.0.2.${i}`
        const reply = await new Promise<string>((resolve, reject) => {
          const req = httpRequest({ path: '/x', headers: { host: 'latch.test', connection: 'close' }, createConnection: () => rawConnection(port, proxyV2({ source: client })) })
          req.on('response', (res) => {
            res.resume()
            res.on('end', () => resolve(String(res.headers['x-request-id'])))
          })
          req.on('error', reject)
          req.end()
        })
        const arrival = upstreams.flatMap((upstream) => upstream.arrivals).find((item) => item.headers['x-request-id'] === reply)
        expect(arrival?.headers['x-forwarded-for']).toBe(client)
      }
      expect(await refusedWith(port, REQUEST)).toEqual({ received: '', closed: true })
    } finally {
      await workers.stop()
    }
  }, 60_000)
})
