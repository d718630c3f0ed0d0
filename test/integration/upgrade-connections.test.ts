/**
 * Upgraded and refused-upgrade client connections are released (issue 15, defect 1): whatever way a
 * client leaves (FIN, reset, half-close) and whatever the upstream answered (101 or a plain 200, with
 * bytes after the request head or not), the client-connection gauge returns to its baseline; a quiet
 * tunnel is closed after `server.tunnelIdleTimeout` on both sides; 50 refused upgrades do not lock
 * up a Latch with `maxConnections: 50`; and such connections do not hold up a graceful shutdown.
 */
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { scrapeMetrics } from '../helpers/admin-client.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { valueOf } from '../helpers/prometheus-text.js'
import { rawRequest } from '../helpers/raw-http.js'
import { refusedUrl, startRawUpstream, type RawUpstream } from '../helpers/raw-upstream.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { openTunnel, sendAndLeave, startTunnelUpstream, upgradeAnswer, upgradeHead, type Departure, type TunnelUpstream, type UpgradeProtocol } from '../helpers/upgrade-client.js'
import { waitFor } from '../helpers/wait.js'

/** Bytes a client sends right after the upgrade head (a WebSocket frame or an HTTP/2 preface would do). */
const TRAILING = 'early bytes after the head'
const PROTOCOLS: readonly UpgradeProtocol[] = ['websocket', 'h2c']

let plain: TestUpstream
let tunnelUpstream: TunnelUpstream
let refused: string

/**
 * A config whose `/echo`, `/quiet`, `/stream` and `/hangup` accept upgrades, `/dead` goes to a refused
 * address, and everything else to a plain `node:http` server answering 200.
 */
function config(server: object, shutdown?: object): object {
  const prefix = (path: string, pool: string): object => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
  return {
    listen: '127.0.0.1:0',
    server,
    ...(shutdown === undefined ? {} : { shutdown }),
    pools: [
      { name: 'plain', endpoints: [plain.url] },
      { name: 'tunnel', endpoints: [tunnelUpstream.url] },
      { name: 'dead', endpoints: [refused], retry: { attempts: 0 } },
    ],
    routes: { rules: [{ http: { paths: [...['/echo', '/quiet', '/stream', '/hangup'].map((path) => prefix(path, 'tunnel')), prefix('/dead', 'dead'), prefix('/', 'plain')] } }] },
  }
}

async function clientConnections(latch: LatchProcess): Promise<number> {
  return valueOf((await scrapeMetrics(latch)).families, 'latch_client_connections', { listener: `127.0.0.1:${latch.port}` }) ?? -1
}

/** Waits until the gauge is back at `baseline` (rejects, naming what is left open, after 5 s). */
async function backTo(latch: LatchProcess, baseline: number, what: string): Promise<void> {
  let last = -1
  try {
    await waitFor(async () => (last = await clientConnections(latch)) === baseline, 5000, 50, what)
  } catch {
    throw new Error(`${what}: latch_client_connections stayed at ${last}, baseline ${baseline}`)
  }
}

beforeAll(async () => {
  plain = await startUpstream('plain', {
    mode: {
      kind: 'custom',
      handle(req, res) {
        const answer = (): void => {
          res.writeHead(200, { 'content-type': 'text/plain' })
          res.end('no upgrade here')
        }
        if (req.url?.startsWith('/slow') === true) setTimeout(answer, 300)
        else answer()
      },
    },
  })
  tunnelUpstream = await startTunnelUpstream()
  refused = await refusedUrl()
})

afterAll(async () => {
  await plain.stop()
  await tunnelUpstream.stop()
})

describe('client connections of upgrades are released', () => {
  let latch: LatchProcess
  beforeAll(async () => {
    // The default tunnelIdleTimeout (1h); a half-closed tunnel is released after 1 s without traffic.
    latch = await startLatch({ config: config({ tunnelHalfClosedTimeout: '1s' }) })
  })
  afterAll(async () => {
    await latch.stop()
  })

  const departures: readonly Departure[] = ['close', 'reset-on-answer', 'reset-at-once']
  for (const protocol of PROTOCOLS) {
    for (const departure of departures) {
      it(`a refused ${protocol} upgrade with bytes after the head, client leaves by ${departure}`, async () => {
        const baseline = await clientConnections(latch)
        const path = departure === 'reset-at-once' ? '/slow/refused' : '/refused'
        const answers = await Promise.all([0, 1, 2].map(() => sendAndLeave(latch.port, upgradeHead(path, protocol) + TRAILING, departure)))
        if (departure === 'close') for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*\r\n\r\nno upgrade here$/)
        await backTo(latch, baseline, `refused ${protocol} upgrades, ${departure}`)
      })
    }
    it(`a refused ${protocol} upgrade without bytes after the head`, async () => {
      const baseline = await clientConnections(latch)
      expect(await sendAndLeave(latch.port, upgradeHead('/refused', protocol), 'close')).toMatch(/^HTTP\/1\.1 200 OK/)
      await backTo(latch, baseline, `refused ${protocol} upgrade`)
    })
  }

  it('an upgrade Latch refuses itself (two Host headers) with bytes after the head', async () => {
    const baseline = await clientConnections(latch)
    const answer = await sendAndLeave(latch.port, upgradeHead('/echo', 'websocket').replace('Host: app.test\r\n', 'Host: app.test\r\nHost: other.test\r\n') + TRAILING, 'close')
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    await backTo(latch, baseline, 'upgrade refused by Latch')
  })

  it('an upgrade to an endpoint that refuses the connection (502) with bytes after the head', async () => {
    const baseline = await clientConnections(latch)
    const answers = await Promise.all([0, 1, 2].map(() => sendAndLeave(latch.port, upgradeHead('/dead', 'websocket') + TRAILING, 'close')))
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 502 /)
    await backTo(latch, baseline, 'upgrades answered 502')
  })

  for (const protocol of PROTOCOLS) {
    it(`accepted ${protocol} tunnels closed by the client (FIN or reset) and by the upstream`, async () => {
      const baseline = await clientConnections(latch)
      const byFin = await openTunnel(latch.port, '/echo', protocol)
      byFin.socket.write('ping')
      await waitFor(() => byFin.received() === 'ping', 5000, 20, 'the echo')
      byFin.socket.end()
      const byReset = await openTunnel(latch.port, '/echo', protocol)
      byReset.socket.resetAndDestroy()
      // The upstream closes: the client sees the end and closes its side too (a net.Socket's default).
      const byUpstream = await openTunnel(latch.port, '/hangup', protocol)
      await Promise.all([byFin.closed, byReset.closed, byUpstream.closed])
      await backTo(latch, baseline, `${protocol} tunnels closed`)
      await waitFor(() => ![...tunnelUpstream.tunnels.keys()].some((target) => target.startsWith('/echo') || target.startsWith('/hangup')), 5000, 20, 'the upstream side of the tunnels to close')
    })
  }

  it('a tunnel whose client half-closed and then reset is released', async () => {
    const baseline = await clientConnections(latch)
    const tunnel = await openTunnel(latch.port, '/quiet?half-closed-then-reset', 'websocket')
    tunnel.socket.end()
    await new Promise((resolve) => setTimeout(resolve, 200))
    tunnel.socket.resetAndDestroy()
    await backTo(latch, baseline, 'half-closed then reset tunnel')
    await waitFor(() => tunnelUpstream.probeClosed('/quiet?half-closed-then-reset'), 5000, 50, 'the upstream side to close')
  })

  it('a half-closed tunnel that still carries traffic the other way stays open', async () => {
    const tunnel = await openTunnel(latch.port, '/stream?half-closed', 'websocket')
    tunnel.socket.end()
    // 3 s: three times tunnelHalfClosedTimeout, with a byte from the upstream every 200 ms.
    await new Promise((resolve) => setTimeout(resolve, 3000))
    expect(tunnel.socket.destroyed).toBe(false)
    expect(tunnel.received().length).toBeGreaterThanOrEqual(5)
    tunnel.socket.destroy()
  })
})

describe('server.tunnelIdleTimeout', () => {
  let latch: LatchProcess
  beforeAll(async () => {
    latch = await startLatch({ config: config({ tunnelIdleTimeout: '1s' }) })
  })
  afterAll(async () => {
    await latch.stop()
  })

  it('closes a tunnel with no traffic either way, on both sides', async () => {
    const baseline = await clientConnections(latch)
    const tunnel = await openTunnel(latch.port, '/quiet?idle', 'websocket')
    await waitFor(() => tunnelUpstream.tunnels.has('/quiet?idle'), 5000, 20, 'the upstream side to open')
    await tunnel.closed
    // The upstream reads: it sees Latch's reset by itself.
    await waitFor(() => !tunnelUpstream.tunnels.has('/quiet?idle'), 5000, 20, 'the upstream side to close')
    await backTo(latch, baseline, 'idle tunnel')
  })

  it('closes a half-closed tunnel whose ends went quiet', async () => {
    const baseline = await clientConnections(latch)
    const tunnel = await openTunnel(latch.port, '/quiet?half-closed', 'h2c')
    tunnel.socket.end()
    await tunnel.closed
    await waitFor(() => tunnelUpstream.probeClosed('/quiet?half-closed'), 5000, 50, 'the upstream side to close')
    await backTo(latch, baseline, 'half-closed tunnel')
  })

  it('keeps a tunnel that carries traffic past the timeout', async () => {
    const tunnel = await openTunnel(latch.port, '/echo', 'websocket')
    let sent = ''
    // 3 s of a message every 200 ms: three times the idle timeout, never 1 s without traffic.
    for (let i = 0; i < 15; i++) {
      tunnel.socket.write('.')
      sent += '.'
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    await waitFor(() => tunnel.received() === sent, 5000, 20, 'every message echoed')
    expect(tunnel.socket.destroyed).toBe(false)
    tunnel.socket.end()
    await tunnel.closed
  })
})

describe('server.maxConnections: 50', () => {
  it('50 refused upgrades with bytes after the head do not lock Latch up', async () => {
    const latch = await startLatch({ config: config({ maxConnections: 50 }) })
    try {
      for (let batch = 0; batch < 5; batch++) {
        await Promise.all(Array.from({ length: 10 }, () => sendAndLeave(latch.port, upgradeHead('/refused', 'websocket') + TRAILING, 'close')))
      }
      // Latch destroys a connection above maxConnections at once: retry until one is served.
      const served = await waitFor(async () => {
        const result = await rawRequest(latch.port, 'GET /plain HTTP/1.1\r\nHost: app.test\r\nConnection: close\r\n\r\n', 2000)
        return result.status === 200 ? result : undefined
      }, 5000, 100, 'a normal request to be served').catch(() => undefined)
      expect(served?.status, 'a normal request after 50 refused upgrades').toBe(200)
    } finally {
      await latch.stop('SIGKILL')
    }
  })
})

describe('graceful shutdown', () => {
  it('does not wait for the connections of refused upgrades whose clients left', async () => {
    const latch = await startLatch({ config: config({}, { drainDelay: '0s', drainTimeout: '8s' }) })
    try {
      await Promise.all([0, 1, 2].map(() => sendAndLeave(latch.port, upgradeHead('/refused', 'websocket') + TRAILING, 'close')))
      expect(await latch.stop('SIGTERM')).toBe(0)
      expect(latch.logs.filter((line) => line.msg === 'drain timeout reached: closing remaining connections')).toEqual([])
    } finally {
      await latch.stop('SIGKILL')
    }
  })
})

/**
 * The pool's timeouts and retries apply to the upgrade's upstream leg (issue 11 point 7): a silent
 * endpoint answers 504 after `timeouts.responseHeaders` (even to a half-closed client, which would
 * otherwise hold the connection until `server.idleTimeout`), a TLS handshake that never completes
 * 504 after `timeouts.connect`, both with the upstream socket closed; a refused or timed-out connect
 * is retried on another endpoint, and a session bound to a refused endpoint follows `onUnavailable`.
 */
describe('pool timeouts and retries for upgrades', () => {
  let latch: LatchProcess
  let silent: RawUpstream
  /** Upstream-side sockets of the silent endpoint, open or closed. */
  const silentSockets: Socket[] = []
  const sessionUpstreams: TunnelUpstream[] = []

  beforeAll(async () => {
    silent = await startRawUpstream((socket) => silentSockets.push(socket))
    // The raw server also swallows a TLS ClientHello: a handshake that never completes.
    const silentTls = silent.url.replace('http:', 'https:')
    sessionUpstreams.push(...(await Promise.all([0, 1, 2, 3].map(() => startTunnelUpstream()))))
    const [a, b, c, d] = sessionUpstreams.map((upstream) => upstream.url)
    const timeouts = { connect: '500ms', responseHeaders: '500ms' }
    const passiveHealth = { enabled: false }
    const prefix = (path: string, pool: string): object => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'stdout' },
        // The upstream only reads these tunnels: once the client leaves, they close after 200 ms.
        server: { tunnelHalfClosedTimeout: '200ms' },
        sessionSecrets: ['upgrade-retry-test-secret-0123456789'],
        pools: [
          { name: 'silent', endpoints: [silent.url], retry: { attempts: 0 }, timeouts, passiveHealth },
          { name: 'silent-tls', endpoints: [silentTls], tls: { insecureSkipVerify: true }, retry: { attempts: 0 }, timeouts, passiveHealth },
          { name: 'mixed', endpoints: [refused, tunnelUpstream.url], retry: { attempts: 1 }, timeouts, passiveHealth },
          { name: 'mixed-tls', endpoints: [silentTls, tunnelUpstream.url], tls: { insecureSkipVerify: true }, retry: { attempts: 1 }, timeouts, passiveHealth },
          { name: 'rebind', endpoints: [a, b], affinity: { mode: 'cookie', responseHeader: true }, timeouts, passiveHealth },
          { name: 'strict', endpoints: [c, d], affinity: { mode: 'cookie', cookie: { name: 'strict' }, onUnavailable: 'fail', responseHeader: true }, timeouts, passiveHealth },
        ],
        routes: { rules: [{ http: { paths: ['silent', 'silent-tls', 'mixed', 'mixed-tls', 'rebind', 'strict'].map((pool) => prefix(`/${pool}/`, pool)) } }] },
      },
    })
  })
  afterAll(async () => {
    await latch.stop()
    await silent.stop()
    await Promise.all(sessionUpstreams.map((upstream) => upstream.stop()))
  })

  /** The answer of a client that half-closes right after its upgrade head; fails after 5 s (server.idleTimeout is 120 s). */
  async function halfClosedAnswer(path: string): Promise<string> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<string>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`no answer to ${path} within 5 s`)), 5000)))
    try {
      return await Promise.race([sendAndLeave(latch.port, upgradeHead(path, 'websocket'), 'half-close'), late])
    } finally {
      clearTimeout(timer)
    }
  }

  it('a silent endpoint: 504 ERR_UPSTREAM_TIMEOUT after timeouts.responseHeaders to a half-closed client, both sockets closed', async () => {
    const baseline = await clientConnections(latch)
    const before = silentSockets.length
    const answer = await halfClosedAnswer('/silent/ws')
    expect(answer).toMatch(/^HTTP\/1\.1 504 /)
    expect(answer).toContain('X-Latch-Error: ERR_UPSTREAM_TIMEOUT')
    expect(answer).toContain('sent no response headers in time')
    await backTo(latch, baseline, 'upgrade to a silent endpoint')
    expect(silentSockets.length).toBe(before + 1)
    await waitFor(() => silentSockets.every((socket) => socket.destroyed), 5000, 20, 'the upstream socket to close')
  })

  it('a TLS handshake that never completes: 504 ERR_UPSTREAM_TIMEOUT after timeouts.connect', async () => {
    const baseline = await clientConnections(latch)
    const answer = await halfClosedAnswer('/silent-tls/ws')
    expect(answer).toMatch(/^HTTP\/1\.1 504 /)
    expect(answer).toContain('X-Latch-Error: ERR_UPSTREAM_TIMEOUT')
    expect(answer).toContain('timed out')
    await backTo(latch, baseline, 'upgrade to a silent TLS endpoint')
  })

  it('a refused connect is retried on another endpoint', async () => {
    // Round-robin over [refused, good]: without retries every other upgrade would fail.
    for (let i = 0; i < 4; i++) {
      const answer = await upgradeAnswer(latch.port, upgradeHead(`/mixed/echo-${i}`, 'websocket'))
      expect(answer.status, `upgrade ${i}`).toBe(101)
    }
    // The access lines (written when each connection closed) count the attempts: two upgrades took two.
    const lines = await waitFor(() => {
      const found = accessLines(latch).filter((line) => String(line.path).startsWith('/mixed/echo-'))
      return found.length === 4 ? found : undefined
    }, 5000, 20, 'the access lines of the four upgrades')
    expect(lines.map((line) => line.status)).toEqual([101, 101, 101, 101])
    expect(lines.map((line) => line.attempts).sort()).toEqual([1, 1, 2, 2])
  })

  it('a timed-out TLS connect is retried on another endpoint', async () => {
    for (let i = 0; i < 2; i++) {
      const answer = await upgradeAnswer(latch.port, upgradeHead(`/mixed-tls/echo-${i}`, 'websocket'))
      expect(answer.status, `upgrade ${i}`).toBe(101)
    }
  })

  /** Binds a session with an upgrade, then stops its endpoint: returns the cookie and the endpoint left. */
  async function sessionOnStoppedEndpoint(pool: string, upstreams: readonly TunnelUpstream[]): Promise<{ cookie: string; other: TunnelUpstream }> {
    const first = await upgradeAnswer(latch.port, upgradeHead(`/${pool}/echo-first`, 'websocket'))
    expect(first.status).toBe(101)
    const cookie = (first.cookies[0] ?? '').split(';')[0] as string
    expect(cookie).toMatch(/^(latch|strict)=/)
    const bound = await waitFor(() => upstreams.find((upstream) => upstream.tunnels.has(`/${pool}/echo-first`)), 5000, 20, 'the bound endpoint')
    await bound.stop()
    return { cookie, other: upstreams.find((upstream) => upstream !== bound) as TunnelUpstream }
  }

  it('a session whose endpoint refuses the connect is rebound on another endpoint (onUnavailable: rebind)', async () => {
    const { cookie, other } = await sessionOnStoppedEndpoint('rebind', sessionUpstreams.slice(0, 2))
    const answer = await upgradeAnswer(latch.port, upgradeHead('/rebind/echo-again', 'websocket').replace('Host: app.test\r\n', `Host: app.test\r\nCookie: ${cookie}\r\n`))
    expect(answer.status).toBe(101)
    expect(answer.headers['x-latch-affinity']).toBe('rebound')
    expect(answer.cookies[0]).toMatch(/^latch=/)
    await waitFor(() => other.tunnels.has('/rebind/echo-again'), 5000, 20, 'the upgrade on the other endpoint')
  })

  it('a session whose endpoint refuses the connect gets 503 ERR_SESSION_UNAVAILABLE (onUnavailable: fail)', async () => {
    const { cookie } = await sessionOnStoppedEndpoint('strict', sessionUpstreams.slice(2, 4))
    const answer = await upgradeAnswer(latch.port, upgradeHead('/strict/echo-again', 'websocket').replace('Host: app.test\r\n', `Host: app.test\r\nCookie: ${cookie}\r\n`))
    expect(answer.status).toBe(503)
    expect(answer.headers['x-latch-error']).toBe('ERR_SESSION_UNAVAILABLE')
    expect(answer.headers['retry-after']).toBe('5')
  })
})
