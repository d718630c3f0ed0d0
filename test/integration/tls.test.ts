/**
 * TLS termination and HTTP/2 on Latch's listeners: certificates chosen by SNI, a certificate file
 * replaced on disk and served without restart (a broken replacement keeps the old one), the minimum
 * TLS version, HTTP/1.1 over TLS, HTTP/2 by ALPN (GET and a streamed POST body to an HTTP/1.1
 * upstream, no connection-specific headers in responses), cleartext h2c, and graceful shutdown of
 * HTTP/2 sessions (GOAWAY, in-flight stream completes, exit 0).
 */
import { createHash } from 'node:crypto'
import { renameSync, writeFileSync } from 'node:fs'
import { request as httpsRequest } from 'node:https'
import { constants, connect as h2connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { adminCall, scrapeMetrics } from '../helpers/admin-client.js'
import { createTestCa, type TestCa } from '../helpers/certificates.js'
import { runCli, startLatch, writeConfig, type LatchProcess } from '../helpers/latch-process.js'
import { samplesOf, valueOf } from '../helpers/prometheus-text.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

/** Connects with TLS and returns the served certificate's CN and the negotiated protocol (or the error code). */
function handshake(port: number, options: ConnectionOptions, host = port === strictPort ? '127.0.0.2' : '127.0.0.1'): Promise<{ cn?: string | undefined; protocol?: string | null; alpn?: string | false | null; error?: string }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host, port, ...options }, () => {
      const cert = socket.getPeerCertificate()
      resolve({ cn: cert.subject?.CN as string | undefined, protocol: socket.getProtocol(), alpn: socket.alpnProtocol })
      socket.destroy()
    })
    socket.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }))
  })
}

interface H2Response {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

/** One HTTP/2 request on `session`; `body` chunks are written one by one (no content-length). */
function h2request(session: ClientHttp2Session, headers: Record<string, string>, body?: readonly Buffer[]): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined })
    const chunks: Buffer[] = []
    let responseHeaders: IncomingHttpHeaders = {}
    stream.on('response', (received) => (responseHeaders = received))
    stream.on('data', (chunk: Buffer) => chunks.push(chunk))
    stream.on('end', () => resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, body: Buffer.concat(chunks) }))
    stream.on('error', reject)
    if (body !== undefined) {
      void (async () => {
        for (const chunk of body) {
          stream.write(chunk)
          await new Promise((next) => setTimeout(next, 5))
        }
        stream.end()
      })()
    }
  })
}

function httpsGet(port: number, ca: Buffer, servername: string, path = '/', extra: Record<string, string> = {}, host = '127.0.0.1'): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host, port, path, ca, servername, headers: { host: servername, ...extra }, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

let strictPort = 0

const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']

describe('TLS listeners and HTTP/2', () => {
  let ca: TestCa
  let upstream: TestUpstream
  let latch: LatchProcess
  let tlsPort: number
  let h2cPort: number
  let h1OnlyPort: number

  beforeAll(async () => {
    ca = createTestCa()
    const a = ca.issue('a', 'a.test', ['DNS:a.test', 'IP:127.0.0.1'])
    const b = ca.issue('b', 'b.test', ['DNS:b.test', 'DNS:*.b.test'])
    upstream = await startUpstream('u1', { streamBodies: false })
    latch = await startLatch({
      config: {
        listen: [
          { address: '127.0.0.1:0', tls: { cert: a.cert, key: a.key, certificates: [{ cert: b.cert, key: b.key }] } },
          // Listeners are keyed by their configured address: distinct loopback addresses, each on a free port.
          { address: '127.0.0.2:0', tls: { cert: a.cert, key: a.key, minVersion: 'TLSv1.3' } },
          { address: '127.0.0.3:0', http2: 'h2c' },
          { address: '127.0.0.4:0', tls: { cert: a.cert, key: a.key }, http2: false },
        ],
        admin: { listen: '127.0.0.1:0' },
        server: { maxHeaderSize: '8KiB' },
        shutdown: { drainDelay: '300ms', drainTimeout: '5s' },
        log: { access: 'off' },
        sessionSecrets: ['tls-test-secret-0123456789abcdef'],
        pools: [{ name: 'web', endpoints: [upstream.url], affinity: { mode: 'cookie' } }],
      },
    })
    ;[tlsPort, strictPort, h2cPort, h1OnlyPort] = latch.urls.map((url) => Number(new URL(url).port)) as [number, number, number, number]
  }, 30_000)

  afterAll(async () => {
    await latch?.stop('SIGKILL')
    await upstream?.stop()
  })

  it('serves the certificate the SNI name asks for; the default one without SNI or for unknown names', async () => {
    expect(await handshake(tlsPort, { servername: 'a.test', ca: ca.caPem })).toMatchObject({ cn: 'a.test' })
    expect(await handshake(tlsPort, { servername: 'b.test', ca: ca.caPem })).toMatchObject({ cn: 'b.test' })
    expect(await handshake(tlsPort, { servername: 'x.b.test', ca: ca.caPem })).toMatchObject({ cn: 'b.test' })
    expect(await handshake(tlsPort, { servername: 'other.test', rejectUnauthorized: false })).toMatchObject({ cn: 'a.test' })
    // No SNI at all (an IP address): the default certificate, which names the IP.
    expect(await handshake(tlsPort, { ca: ca.caPem })).toMatchObject({ cn: 'a.test', protocol: 'TLSv1.3' })
  })

  it('offers h2 and http/1.1 by ALPN', async () => {
    expect(await handshake(tlsPort, { servername: 'a.test', ca: ca.caPem, ALPNProtocols: ['h2', 'http/1.1'] })).toMatchObject({ alpn: 'h2' })
    expect(await handshake(tlsPort, { servername: 'a.test', ca: ca.caPem, ALPNProtocols: ['http/1.1'] })).toMatchObject({ alpn: 'http/1.1' })
  })

  it('refuses clients below minVersion (TLS 1.1 by default, TLS 1.2 where TLSv1.3 is required)', async () => {
    // SECLEVEL=0 lets this client offer TLS 1.1 at all, so the refusal is the server's (protocol_version alert).
    const old = await handshake(tlsPort, { servername: 'a.test', ca: ca.caPem, minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })
    expect(old.error).toMatch(/PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/)
    const tls12 = await handshake(strictPort, { servername: 'a.test', ca: ca.caPem, maxVersion: 'TLSv1.2' })
    expect(tls12.error).toMatch(/PROTOCOL_VERSION/)
    expect(await handshake(strictPort, { servername: 'a.test', ca: ca.caPem })).toMatchObject({ cn: 'a.test', protocol: 'TLSv1.3' })
    expect(await handshake(tlsPort, { servername: 'a.test', ca: ca.caPem, maxVersion: 'TLSv1.2' })).toMatchObject({ protocol: 'TLSv1.2' })
    // The refusals are counted by listener and reason.
    const { families } = await scrapeMetrics(latch)
    const refused = samplesOf(families, 'latch_tls_handshake_failures_total', { listener: '127.0.0.2:0' })
    expect(refused.reduce((sum, sample) => sum + sample.value, 0)).toBeGreaterThanOrEqual(1)
  })

  it('HTTP/1.1 over TLS: the upstream sees X-Forwarded-Proto https and Via 1.1', async () => {
    const response = await httpsGet(tlsPort, ca.caPem, 'a.test', '/h1?x=1')
    expect(response.status).toBe(200)
    const seen = upstream.arrivals.at(-1)
    expect(seen?.url).toBe('/h1?x=1')
    expect(seen?.headers['x-forwarded-proto']).toBe('https')
    expect(seen?.headers.via).toBe('1.1 latch')
    expect(seen?.headers.host).toBe('a.test')
    // secure: auto: the affinity cookie is Secure on a TLS listener.
    expect(String(response.headers['set-cookie'])).toMatch(/; Secure/i)
  })

  it('HTTP/1.1 over TLS on an HTTP/2 listener keeps the server limits (oversized head → 431)', async () => {
    const response = await httpsGet(tlsPort, ca.caPem, 'a.test', '/big', { 'x-big': 'b'.repeat(9000) })
    expect(response.status).toBe(431)
    expect(response.headers['x-latch-error']).toBe('ERR_HEADERS_TOO_LARGE')
  })

  it('http2: false serves HTTP/1.1 only, with SNI certificates', async () => {
    expect(await handshake(h1OnlyPort, { servername: 'a.test', ca: ca.caPem, ALPNProtocols: ['h2', 'http/1.1'] }, '127.0.0.4')).not.toMatchObject({ alpn: 'h2' })
    const response = await httpsGet(h1OnlyPort, ca.caPem, 'a.test', '/h1only', {}, '127.0.0.4')
    expect(response.status).toBe(200)
    expect(upstream.arrivals.at(-1)?.headers['x-forwarded-proto']).toBe('https')
  })

  it('HTTP/2 GET through Latch to an HTTP/1.1 upstream: :authority becomes Host, no pseudo-headers upstream, no connection headers back', async () => {
    const session = h2connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.caPem, servername: 'b.test' })
    try {
      const response = await h2request(session, { ':method': 'GET', ':path': '/h2/get?q=2', ':authority': 'b.test', 'x-custom': 'yes' })
      expect(response.status).toBe(200)
      expect(response.headers['x-upstream']).toBe('u1')
      for (const name of CONNECTION_SPECIFIC) expect(response.headers[name]).toBeUndefined()
      const seen = upstream.arrivals.at(-1)
      expect(seen?.httpVersion).toBe('1.1')
      expect(seen?.method).toBe('GET')
      expect(seen?.url).toBe('/h2/get?q=2')
      expect(seen?.headers.host).toBe('b.test')
      expect(seen?.headers['x-custom']).toBe('yes')
      expect(seen?.headers['x-forwarded-proto']).toBe('https')
      expect(seen?.headers.via).toBe('2 latch')
      expect(seen?.rawHeaders.some((name, index) => index % 2 === 0 && name.startsWith(':'))).toBe(false)
      expect(String(response.headers['set-cookie'])).toMatch(/; Secure/i)
      const conflicting = await h2request(session, { ':method': 'GET', ':path': '/h2/conflict', ':authority': 'b.test', host: 'evil.test' })
      expect(conflicting.status).toBe(400)
      expect(conflicting.headers['x-latch-error']).toBe('ERR_BAD_REQUEST')
      const connect = await h2request(session, { ':method': 'CONNECT', ':authority': 'b.test:443' })
      expect(connect.status).toBe(405)
    } finally {
      session.close()
    }
  })

  it('HTTP/2 POST with a streamed body of unknown length arrives whole (chunked upstream)', async () => {
    const session = h2connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.caPem, servername: 'a.test' })
    try {
      const chunks = Array.from({ length: 20 }, (_, index) => Buffer.alloc(16 * 1024, index))
      const expected = createHash('sha256').update(Buffer.concat(chunks)).digest('hex')
      const response = await h2request(session, { ':method': 'POST', ':path': '/h2/post', ':authority': 'a.test', 'content-type': 'application/octet-stream' }, chunks)
      expect(response.status).toBe(200)
      const seen = upstream.arrivals.at(-1)
      expect(seen?.method).toBe('POST')
      expect(seen?.bodyBytes).toBe(20 * 16 * 1024)
      expect(seen?.bodySha256).toBe(expected)
      expect(seen?.headers['transfer-encoding']).toBe('chunked')
      // A POST with Content-Length keeps it.
      const sized = await h2request(session, { ':method': 'POST', ':path': '/h2/sized', ':authority': 'a.test', 'content-length': '5' }, [Buffer.from('hello')])
      expect(sized.status).toBe(200)
      expect(upstream.arrivals.at(-1)?.headers['content-length']).toBe('5')
    } finally {
      session.close()
    }
  })

  it('cleartext h2c listener (prior knowledge)', async () => {
    const session = h2connect(`http://127.0.0.3:${h2cPort}`)
    try {
      const response = await h2request(session, { ':method': 'GET', ':path': '/h2c', ':authority': 'c.test' })
      expect(response.status).toBe(200)
      const seen = upstream.arrivals.at(-1)
      expect(seen?.headers.host).toBe('c.test')
      expect(seen?.headers['x-forwarded-proto']).toBe('http')
    } finally {
      session.close()
    }
  })

  it('a replaced certificate file is served without restart; a broken one keeps the previous certificate', async () => {
    // Issue the new pair under other names, then move it over the served files (as Secret updates and careful deploys do).
    const next = ca.issue('b-next', 'b2.test', ['DNS:b.test', 'DNS:*.b.test'])
    renameSync(next.key, `${ca.dir}/b.key`)
    renameSync(next.cert, `${ca.dir}/b.crt`)
    await waitFor(async () => (await handshake(tlsPort, { servername: 'b.test', ca: ca.caPem })).cn === 'b2.test', 5000, 50, 'the new certificate')
    // The other names keep theirs.
    expect(await handshake(tlsPort, { servername: 'a.test', ca: ca.caPem })).toMatchObject({ cn: 'a.test' })
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_tls_certificate_reloads_total', { listener: '127.0.0.1:0', result: 'success' })).toBeGreaterThanOrEqual(1)
    // Certificates are valid for two days: the expiry gauge says so.
    const expiry = valueOf(families, 'latch_tls_certificate_expiry_timestamp_seconds', { listener: '127.0.0.1:0', cert: `${ca.dir}/b.crt` }) as number
    expect(expiry * 1000 - Date.now()).toBeGreaterThan(24 * 3600 * 1000)

    writeFileSync(`${ca.dir}/b.crt`, 'not a certificate\n')
    await waitFor(() => latch.logs.some((line) => line.msg === 'certificate reload failed; the previous certificate keeps serving' && String(line.problem).includes('b.crt')), 5000, 50, 'the failed reload log')
    expect(await handshake(tlsPort, { servername: 'b.test', ca: ca.caPem })).toMatchObject({ cn: 'b2.test' })
    const after = await scrapeMetrics(latch)
    expect(valueOf(after.families, 'latch_tls_certificate_reloads_total', { listener: '127.0.0.1:0', result: 'failure' })).toBeGreaterThanOrEqual(1)
  })

  it('an HTTP/2 client cancelling its stream aborts the upstream request (logged and counted as 499 ERR_CLIENT_ABORTED)', async () => {
    upstream.mode = { kind: 'hang' }
    const session = h2connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.caPem, servername: 'a.test' })
    try {
      const stream = session.request({ ':method': 'GET', ':path': '/cancelled', ':authority': 'a.test' })
      stream.on('error', () => undefined)
      await waitFor(() => upstream.heads.some((head) => head.url === '/cancelled'), 5000, 10, 'the request upstream')
      stream.close(constants.NGHTTP2_CANCEL)
      await waitFor(async () => samplesOf((await scrapeMetrics(latch)).families, 'latch_requests_total', { code: '499' }).length > 0, 5000, 50, 'the aborted request to be counted')
      // The upstream request was cancelled too: nothing is left in flight to the endpoint.
      const { families } = await scrapeMetrics(latch)
      expect(valueOf(families, 'latch_endpoint_requests_in_flight', { pool: 'web', endpoint: `127.0.0.1:${upstream.port}` })).toBe(0)
    } finally {
      session.close()
      upstream.mode = { kind: 'echo' }
    }
  })

  it('graceful shutdown: an in-flight HTTP/2 stream completes, the session gets GOAWAY, exit 0', async () => {
    upstream.mode = { kind: 'delay', ms: 800 }
    const session = h2connect(`https://127.0.0.1:${tlsPort}`, { ca: ca.caPem, servername: 'a.test' })
    const goaway = new Promise<boolean>((resolve) => {
      session.once('goaway', () => resolve(true))
      session.once('close', () => resolve(false))
    })
    const inflight = h2request(session, { ':method': 'GET', ':path': '/slow', ':authority': 'a.test' })
    await waitFor(() => upstream.heads.some((head) => head.url === '/slow'), 5000, 10, 'the slow request upstream')
    latch.child.kill('SIGTERM')
    await waitFor(() => latch.logs.some((line) => line.msg === 'draining: readiness failed, still accepting'), 3000, 10, 'the drain to start')
    // A new stream during drainDelay is served; its session is then told GOAWAY.
    upstream.mode = { kind: 'echo' }
    const during = await h2request(session, { ':method': 'GET', ':path': '/during-drain', ':authority': 'a.test' })
    expect(during.status).toBe(200)
    const response = await inflight
    expect(response.status).toBe(200)
    expect(await goaway).toBe(true)
    expect(await latch.exited).toBe(0)
  }, 20_000)
})

describe('TLS config errors at start and reload', () => {
  it('latch check and start refuse a missing certificate file, naming file and key path', async () => {
    const ca = createTestCa()
    const missing = `${ca.dir}/missing.crt`
    const file = writeConfig({ listen: [{ address: '127.0.0.1:0', tls: { cert: missing, key: `${ca.dir}/missing.key` } }], pools: [{ name: 'web', endpoints: ['http://127.0.0.1:1'] }] })
    const checked = await runCli(['check', '--config', file])
    expect(checked.code).toBe(1)
    expect(checked.stderr).toContain(`${file}: listen[0].tls.cert: cannot read certificate file ${missing}: no such file (ENOENT)`)
    const started = await runCli(['--config', file])
    expect(started.code).toBe(1)
    expect(started.stderr).toContain(`listen[0].tls.cert: cannot read certificate file ${missing}`)
  })

  it('a reload naming a bad key is rejected (old certificate serves on); a valid one switches certificates', async () => {
    const ca = createTestCa()
    const first = ca.issue('first', 'first.test', ['DNS:app.test'])
    const second = ca.issue('second', 'second.test', ['DNS:app.test'])
    const upstream = await startUpstream('r1')
    const config = (tls: object): object => ({
      listen: [{ address: '127.0.0.1:0', tls }],
      admin: { listen: '127.0.0.1:0' },
      reload: { watch: false },
      log: { access: 'off' },
      pools: [{ name: 'web', endpoints: [upstream.url] }],
    })
    const latch = await startLatch({ config: config({ cert: first.cert, key: first.key }) })
    try {
      const port = Number(new URL(latch.url).port)
      const served = async (): Promise<string | undefined> => (await handshake(port, { servername: 'app.test', ca: ca.caPem }, '127.0.0.1')).cn
      expect(await served()).toBe('first.test')
      writeFileSync(latch.configFile as string, stringify(config({ cert: second.cert, key: first.key })))
      const rejected = await adminCall(latch, 'POST', '/reload')
      expect(rejected.status).toBe(422)
      expect((rejected.body.issues as string[]).join('\n')).toContain(`listen[0].tls.key: ${first.key} does not match the certificate in ${second.cert}`)
      expect(await served()).toBe('first.test')
      writeFileSync(latch.configFile as string, stringify(config({ cert: second.cert, key: second.key })))
      const accepted = await adminCall(latch, 'POST', '/reload')
      expect(accepted.status).toBe(200)
      expect(accepted.body.changes).toContain('listener 127.0.0.1:' + port + ': TLS certificates and settings reloaded')
      expect(await served()).toBe('second.test')
    } finally {
      await latch.stop('SIGKILL')
      await upstream.stop()
    }
  })
})
