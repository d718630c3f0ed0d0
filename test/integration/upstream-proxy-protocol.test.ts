/**
 * PROXY protocol towards upstreams (`pools[].proxyProtocol`), through the real CLI: an upstream that
 * requires the header (read with Latch's own parser) sees the client Latch sees, in v1 and v2, for
 * IPv4 and IPv6 clients, for a client named by `trustedProxies` and for one named by a PROXY
 * listener; over TLS (the header before the handshake) and for WebSocket upgrades. Two clients
 * never share an upstream connection, while one client's keep-alive requests still reuse theirs;
 * active health checks send a header that names no client (v2 LOCAL), so the endpoint stays up.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestCa } from '../helpers/certificates.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { proxyV2 } from '../helpers/proxy-protocol.js'
import { startProxyProtocolUpstream, type ProxyEcho, type ProxyProtocolUpstream } from '../helpers/proxy-protocol-upstream.js'
import { upgradeAnswer, upgradeHead } from '../helpers/upgrade-client.js'
import { waitFor } from '../helpers/wait.js'

let cleartext: ProxyProtocolUpstream
let secure: ProxyProtocolUpstream
let latch: LatchProcess
/** Ports of the listeners: 127.0.0.1, [::1], and 127.0.0.3 with a PROXY protocol listener. */
let v4Port: number
let v6Port: number
let proxiedPort: number

beforeAll(async () => {
  const ca = createTestCa()
  cleartext = await startProxyProtocolUpstream()
  secure = await startProxyProtocolUpstream(ca.issue('upstream', 'upstream.test', ['IP:127.0.0.1']))
  const prefix = (path: string, pool: string): object => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
  latch = await startLatch({
    config: {
      listen: ['127.0.0.1:0', '[::1]:0', { address: '127.0.0.3:0', proxyProtocol: 'v2', proxyProtocolFrom: ['127.0.0.1/32'] }],
      // A client behind the trusted hop 127.0.0.9 is the address its X-Forwarded-For names.
      trustedProxies: ['127.0.0.9/32'],
      pools: [
        { name: 'v1', endpoints: [cleartext.url], proxyProtocol: 'v1' },
        { name: 'v2', endpoints: [cleartext.url], proxyProtocol: 'v2', healthCheck: { path: '/healthz', interval: '200ms' } },
        { name: 'tls', endpoints: [secure.url], proxyProtocol: 'v2', tls: { ca: ca.caCert } },
      ],
      routes: { rules: [{ http: { paths: [prefix('/v1/', 'v1'), prefix('/v2/', 'v2'), prefix('/tls/', 'tls')] } }] },
    },
  })
  ;[v4Port, v6Port, proxiedPort] = latch.urls.map((url) => Number(new URL(url).port)) as [number, number, number]
})

afterAll(async () => {
  await latch?.stop()
  await cleartext?.stop()
  await secure?.stop()
})

interface Answer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly echo: ProxyEcho
  /** The client's own port on its connection to Latch. */
  readonly localPort: number
}

/** A GET through Latch from `localAddress` to the listener on `host`; `agent` keeps the connection for the next one. */
function get(path: string, options: { agent?: Agent; host?: string; port?: number; localAddress?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const host = options.host ?? '127.0.0.1'
    const req = request({ host, port: options.port ?? v4Port, path, agent: options.agent ?? false, localAddress: options.localAddress ?? host, headers: { host: 'app.test', ...options.headers } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, echo: JSON.parse(body) as ProxyEcho, localPort: res.socket?.localPort ?? req.socket?.localPort ?? 0 })
        } catch {
          reject(new Error(`${res.statusCode}: ${body}`))
        }
      })
    })
    req.on('error', reject)
    req.end()
  })
}

describe('pools[].proxyProtocol', () => {
  for (const version of [1, 2] as const) {
    it(`v${version}: an IPv4 client's address and port reach the upstream`, async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 })
      try {
        const answer = await get(`/v${version}/ipv4`, { agent })
        expect(answer.status).toBe(200)
        expect(answer.echo.version).toBe(version)
        expect(answer.echo.source).toEqual({ address: '127.0.0.1', port: answer.localPort })
      } finally {
        agent.destroy()
      }
    })

    it(`v${version}: an IPv6 client's address reaches the upstream`, async () => {
      const answer = await get(`/v${version}/ipv6`, { host: '::1', port: v6Port })
      expect(answer.echo.version).toBe(version)
      expect(answer.echo.source).toEqual({ address: '::1', port: answer.localPort })
    })

    it(`v${version}: a client named by a trusted proxy's X-Forwarded-For (IPv6 behind IPv4) reaches the upstream`, async () => {
      const answer = await get(`/v${version}/forwarded`, { localAddress: '127.0.0.9', headers: { 'x-forwarded-for': '2001:db8::7' } })
      expect(answer.echo.version).toBe(version)
      // Named by a header: no port is known for it.
      expect(answer.echo.source).toEqual({ address: '2001:db8::7', port: 0 })
    })
  }

  it('a client named by a PROXY protocol listener is the one named upstream', async () => {
    const text = await new Promise<string>((resolve, reject) => {
      let received = ''
      const socket = connect({ host: '127.0.0.3', port: proxiedPort, localAddress: '127.0.0.1' }, () => {
        socket.write(Buffer.concat([proxyV2({ source: '198.51.100.4', sourcePort: 5555 }), Buffer.from('GET /v1/behind-balancer HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n')]))
      })
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')))
      socket.on('close', () => resolve(received))
      socket.on('error', reject)
    })
    expect(text).toMatch(/^HTTP\/1\.1 200 /)
    // The echo, whatever the body's framing (a JSON object is one chunk).
    expect(JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1)) as ProxyEcho).toMatchObject({ version: 1, source: { address: '198.51.100.4', port: 5555 } })
  })

  it('two clients never share an upstream connection; each client\'s keep-alive requests reuse its own', async () => {
    const clients = ['127.0.0.1', '127.0.0.2'].map((address) => ({ address, agent: new Agent({ keepAlive: true, maxSockets: 1 }) }))
    try {
      const answers: { client: string; answer: Answer }[] = []
      // Interleaved, one at a time: a shared pool would hand the second client the first one's idle connection.
      for (let i = 0; i < 6; i++) {
        for (const client of clients) answers.push({ client: client.address, answer: await get(`/v2/share-${i}`, { agent: client.agent, localAddress: client.address }) })
      }
      // And concurrently.
      const concurrent = await Promise.all(clients.flatMap((client) => [0, 1, 2].map(async (i) => ({ client: client.address, answer: await get(`/v2/together-${i}`, { localAddress: client.address }) }))))
      answers.push(...concurrent)
      const clientsByConnection = new Map<number, Set<string>>()
      for (const { client, answer } of answers) {
        expect(answer.echo.source?.address, `the header of connection ${answer.echo.connection}`).toBe(client)
        clientsByConnection.set(answer.echo.connection, (clientsByConnection.get(answer.echo.connection) ?? new Set()).add(client))
      }
      for (const [connection, users] of clientsByConnection) expect([...users], `clients on upstream connection ${connection}`).toHaveLength(1)
      // A client's six sequential keep-alive requests went over one upstream connection.
      for (const client of clients) {
        const sequential = answers.slice(0, 12).filter((entry) => entry.client === client.address)
        expect(new Set(sequential.map((entry) => entry.answer.echo.connection)).size, `upstream connections of ${client.address}`).toBe(1)
      }
    } finally {
      for (const client of clients) client.agent.destroy()
    }
  })

  it('over TLS: the header comes before the handshake, and the certificate is still checked', async () => {
    const answer = await get('/tls/secure')
    expect(answer.status).toBe(200)
    expect(answer.echo).toMatchObject({ version: 2, source: { address: '127.0.0.1', port: answer.localPort } })
    expect(secure.refused()).toBe(0)
  })

  it('WebSocket upgrades send the header too, cleartext and TLS', async () => {
    const plain = await upgradeAnswer(v4Port, upgradeHead('/v1/ws', 'websocket'))
    expect(plain.status).toBe(101)
    expect(plain.headers['x-proxy-version']).toBe('1')
    expect(plain.headers['x-proxy-source']).toMatch(/^127\.0\.0\.1 [1-9]\d*$/)
    const overTls = await upgradeAnswer(v4Port, upgradeHead('/tls/ws', 'websocket'))
    expect(overTls.status).toBe(101)
    expect(overTls.headers['x-proxy-version']).toBe('2')
    expect(overTls.headers['x-proxy-source']).toMatch(/^127\.0\.0\.1 [1-9]\d*$/)
  })

  it('active health checks send v2 LOCAL, and the upstream that requires a header keeps the endpoint up', async () => {
    const probe = await waitFor(() => cleartext.connections.find((connection) => connection.targets.includes('/healthz')), 5000, 50, 'a health check')
    expect(probe).toMatchObject({ version: 2, source: undefined })
    expect(cleartext.refused()).toBe(0)
    expect((await get('/v2/after-checks')).status).toBe(200)
  })
})
