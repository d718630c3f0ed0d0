/**
 * Upstreams over `https://`: a pool trusting the test CA (`tls.ca`) is served, the same endpoint
 * without the CA fails with 502 ERR_UPSTREAM_TLS, `insecureSkipVerify` works and is warned about,
 * `tls.servername` sets SNI (and a wrong one fails), the client's Host never decides SNI, active
 * health checks use the pool's TLS settings, and WebSocket upgrades (also wss:// through a TLS
 * listener) reach https endpoints.
 */
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { adminCall } from '../helpers/admin-client.js'
import { createTestCa, type TestCa } from '../helpers/certificates.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { waitFor } from '../helpers/wait.js'

function route(path: string, pool: string): object {
  return { path, pathType: 'Prefix', backend: { service: { name: pool } } }
}

describe('https upstreams', () => {
  let ca: TestCa
  let server: HttpsServer
  let origin: string
  let latch: LatchProcess

  beforeAll(async () => {
    ca = createTestCa()
    const issued = ca.issue('upstream', 'upstream.test', ['DNS:upstream.test', 'IP:127.0.0.1'])
    const { readFileSync } = await import('node:fs')
    server = createHttpsServer({ cert: readFileSync(issued.cert), key: readFileSync(issued.key) }, (req, res) => {
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ sni: (req.socket as TLSSocket).servername ?? null, host: req.headers.host, proto: req.headers['x-forwarded-proto'] }))
      })
    })
    const wss = new WebSocketServer({ server })
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`echo:${String(data)}`)))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
    const healthCheck = { path: '/healthz', interval: '200ms', timeout: '1s' }
    const front = ca.issue('front', 'front.test', ['DNS:front.test', 'IP:127.0.0.2'])
    latch = await startLatch({
      config: {
        listen: ['127.0.0.1:0', { address: '127.0.0.2:0', tls: { cert: front.cert, key: front.key } }],
        log: { access: 'off' },
        pools: [
          { name: 'trusted', endpoints: [origin], tls: { ca: ca.caCert }, healthCheck },
          // The default retry finds no other endpoint, so the TLS failure itself is answered.
          { name: 'untrusted', endpoints: [origin], passiveHealth: { enabled: false } },
          { name: 'untrusted-checked', endpoints: [origin], healthCheck },
          { name: 'insecure', endpoints: [origin], tls: { insecureSkipVerify: true } },
          { name: 'named', endpoints: [origin], tls: { ca: ca.caCert, servername: 'upstream.test' } },
          { name: 'misnamed', endpoints: [origin], tls: { ca: ca.caCert, servername: 'wrong.test' }, retry: { attempts: 0 }, passiveHealth: { enabled: false } },
        ],
        routes: { rules: [{ http: { paths: [route('/trusted', 'trusted'), route('/untrusted', 'untrusted'), route('/insecure', 'insecure'), route('/named', 'named'), route('/misnamed', 'misnamed')] } }] },
      },
    })
  }, 30_000)

  afterAll(async () => {
    await latch?.stop('SIGKILL')
    server?.closeAllConnections()
    await new Promise((resolve) => server?.close(resolve))
  })

  async function get(path: string, host = 'app.example'): Promise<{ status: number; headers: Record<string, unknown>; body: Record<string, unknown> }> {
    const response = await request(`${latch.url}${path}`, { headers: { host } })
    const text = await response.body.text()
    return { status: response.statusCode, headers: response.headers, body: JSON.parse(text) as Record<string, unknown> }
  }

  it('with the pool CA: served; the client Host is forwarded but never used as SNI (IP endpoint: no SNI)', async () => {
    const response = await get('/trusted/a', 'client-chosen.example')
    expect(response.status).toBe(200)
    expect(response.body).toEqual({ sni: false, host: 'client-chosen.example', proto: 'http' })
    // Another Host on the same pool: still fine (and the pooled connection is not torn down for it).
    expect((await get('/trusted/b', 'other.example')).status).toBe(200)
  })

  it('without the CA: 502 ERR_UPSTREAM_TLS naming the certificate problem', async () => {
    const response = await get('/untrusted')
    expect(response.status).toBe(502)
    expect(response.headers['x-latch-error']).toBe('ERR_UPSTREAM_TLS')
    expect(response.body.error).toBe('ERR_UPSTREAM_TLS')
    expect(String(response.body.message)).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed: /)
    const logged = await waitFor(() => latch.logs.find((line) => line.msg === 'upstream request failed' && line.code === 'ERR_UPSTREAM_TLS'), 3000, 20, 'the failure log')
    expect(String(logged.err)).toMatch(/TLS handshake with 127\.0\.0\.1:\d+ failed: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/)
  })

  it('insecureSkipVerify: served, and warned about at load', async () => {
    expect((await get('/insecure')).status).toBe(200)
    expect(latch.logs.some((line) => line.level === 'warn' && String(line.msg).includes('pools[3].tls.insecureSkipVerify is true'))).toBe(true)
  })

  it('tls.servername is sent as SNI and checked; a name the certificate lacks fails', async () => {
    const named = await get('/named')
    expect(named.status).toBe(200)
    expect(named.body.sni).toBe('upstream.test')
    const misnamed = await get('/misnamed')
    expect(misnamed.status).toBe(502)
    expect(misnamed.headers['x-latch-error']).toBe('ERR_UPSTREAM_TLS')
  })

  it('active health checks use the pool TLS settings', async () => {
    const lastCheck = async (pool: string): Promise<{ ok: boolean; error: string | null } | null> => {
      const reply = await adminCall(latch, 'GET', '/pools')
      const found = (reply.body.pools as { name: string; endpoints: { lastCheck: { ok: boolean; error: string | null } | null }[] }[]).find((candidate) => candidate.name === pool)
      return found?.endpoints[0]?.lastCheck ?? null
    }
    const trusted = await waitFor(() => lastCheck('trusted'), 5000, 50, 'a probe of the trusted pool')
    expect(trusted).toMatchObject({ ok: true })
    const untrusted = await waitFor(() => lastCheck('untrusted-checked'), 5000, 50, 'a probe of the untrusted pool')
    expect(untrusted.ok).toBe(false)
    expect(untrusted.error).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY|certificate/)
  })

  it('a WebSocket upgrade reaches an https endpoint with the pool CA', async () => {
    const socket = new WebSocket(`ws://127.0.0.1:${latch.port}/trusted/ws`)
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once('open', () => socket.send('hi'))
      socket.once('message', (data) => resolve(String(data)))
      socket.once('error', reject)
    })
    socket.close()
    expect(reply).toBe('echo:hi')
  })

  it('wss:// through a TLS listener that also offers HTTP/2 (HTTP/1.1 upgrade) to an https endpoint', async () => {
    const socket = new WebSocket(`wss://127.0.0.2:${new URL(latch.urls[1] as string).port}/trusted/ws`, { ca: ca.caPem })
    const reply = await new Promise<string>((resolve, reject) => {
      socket.once('open', () => socket.send('secure'))
      socket.once('message', (data) => resolve(String(data)))
      socket.once('error', reject)
    })
    socket.close()
    expect(reply).toBe('echo:secure')
  })
})

