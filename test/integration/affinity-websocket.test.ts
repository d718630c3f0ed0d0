/**
 * WebSocket upgrades honour sticky sessions like any request, through the real CLI with the `ws`
 * client and three real WebSocket servers: a WebSocket opened after a cookie-bound HTTP request
 * lands on the same endpoint (and the affinity cookie is not forwarded); a WebSocket opened first
 * gets the cookie on its 101 response; `client-ip` binds upgrades and plain requests alike. Without
 * affinity the same sockets spread over the endpoints, so the checks can fail.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { endpointAction } from '../helpers/admin-client.js'
import { send } from '../helpers/http-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'

interface Backend {
  readonly name: string
  readonly url: string
  readonly server: Server
  readonly wss: WebSocketServer
  readonly upgrades: IncomingMessage[]
}

let backends: Backend[]
let latch: LatchProcess

async function startBackend(name: string): Promise<Backend> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'x-upstream': name, 'content-type': 'text/plain' })
    res.end(name)
  })
  const wss = new WebSocketServer({ server })
  const upgrades: IncomingMessage[] = []
  wss.on('connection', (socket, req) => {
    upgrades.push(req)
    socket.send(name)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { name, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, wss, upgrades }
}

beforeAll(async () => {
  backends = await Promise.all(['a', 'b', 'c'].map((name) => startBackend(name)))
  const urls = backends.map((backend) => backend.url)
  const prefix = (path: string, pool: string): object => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      log: { level: 'info', access: 'off' },
      sessionSecrets: ['websocket-test-secret-0123456789'],
      pools: [
        { name: 'cookie', endpoints: urls, affinity: { mode: 'cookie', responseHeader: true } },
        { name: 'ip', endpoints: urls, affinity: { mode: 'client-ip', responseHeader: true } },
        { name: 'plain', endpoints: urls },
        { name: 'strict', endpoints: urls, affinity: { mode: 'cookie', onUnavailable: 'fail', responseHeader: true } },
      ],
      routes: { rules: [{ http: { paths: [prefix('/cookie', 'cookie'), prefix('/ip', 'ip'), prefix('/plain', 'plain'), prefix('/strict', 'strict')] } }] },
    },
  })
})

afterAll(async () => {
  await latch.stop()
  for (const backend of backends) {
    for (const client of backend.wss.clients) client.terminate()
    backend.wss.close()
    backend.server.closeAllConnections()
    await new Promise((resolve) => backend.server.close(resolve))
  }
})

interface Opened {
  /** The backend that greeted the socket. */
  readonly backend: string
  /** Headers of the 101 response. */
  readonly headers: IncomingMessage['headers']
}

/** Opens a WebSocket through Latch, reads the backend's greeting, and closes it. */
function openSocket(path: string, options: { cookie?: string; localAddress?: string; port?: number } = {}): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${options.port ?? latch.port}${path}`, {
      headers: options.cookie === undefined ? {} : { cookie: options.cookie },
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    })
    let headers: IncomingMessage['headers'] = {}
    socket.once('upgrade', (response) => (headers = response.headers))
    socket.once('message', (data) => {
      socket.close()
      resolve({ backend: String(data), headers })
    })
    socket.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with ${res.statusCode}`)))
    socket.once('error', reject)
  })
}

/** Tries an upgrade that Latch is expected to refuse; resolves with the refusal's status and headers. */
function refusedSocket(path: string, cookie: string): Promise<{ status: number; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${latch.port}${path}`, { headers: { cookie } })
    socket.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, headers: res.headers })
      res.resume()
      socket.terminate()
    })
    socket.once('open', () => reject(new Error('the upgrade was accepted')))
    socket.once('error', () => undefined)
  })
}

function cookieOf(setCookie: string[] | undefined): string {
  const line = (setCookie ?? []).find((value) => value.startsWith('latch='))
  expect(line).toBeDefined()
  return (line as string).split(';')[0] as string
}

describe('WebSocket upgrades and sticky sessions', () => {
  it('a WebSocket opened after a cookie-bound HTTP request lands on the same endpoint', async () => {
    const sessions: { cookie: string; backend: string }[] = []
    for (let i = 0; i < 3; i++) {
      const response = await send({ port: latch.port, path: '/cookie/page' })
      expect(response.headers['x-latch-affinity']).toBe('new')
      sessions.push({ cookie: cookieOf(response.headers['set-cookie']), backend: String(response.headers['x-upstream']) })
    }
    // Round-robin gave the three sessions three different endpoints.
    expect(new Set(sessions.map((session) => session.backend)).size).toBe(3)
    for (const session of sessions) {
      for (let i = 0; i < 3; i++) {
        const opened = await openSocket('/cookie/socket', { cookie: `theme=dark; ${session.cookie}` })
        expect(opened.backend).toBe(session.backend)
        expect(opened.headers['x-latch-affinity']).toBe('hit')
        expect(opened.headers['set-cookie']).toBeUndefined()
        // The affinity cookie is Latch's: the backend sees only the application's cookies.
        const upgrade = backends.find((backend) => backend.name === session.backend)?.upgrades.at(-1)
        expect(upgrade?.headers.cookie).toBe('theme=dark')
      }
    }
  })

  it('a WebSocket opened first gets the affinity cookie on its 101 response, and later requests follow it', async () => {
    const first = await openSocket('/cookie/socket')
    expect(first.headers['x-latch-affinity']).toBe('new')
    const cookie = cookieOf(first.headers['set-cookie'] as string[] | undefined)
    for (let i = 0; i < 3; i++) {
      const response = await send({ port: latch.port, path: '/cookie/page', headers: { cookie } })
      expect(response.headers['x-upstream']).toBe(first.backend)
      expect((await openSocket('/cookie/socket', { cookie })).backend).toBe(first.backend)
    }
  })

  it('a tampered cookie on an upgrade is treated as absent: a normal pick and a new cookie', async () => {
    const reached = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const opened = await openSocket('/cookie/socket', { cookie: 'latch=127.0.0.1:1' })
      expect(opened.headers['x-latch-affinity']).toBe('invalid')
      expect(cookieOf(opened.headers['set-cookie'] as string[] | undefined)).toMatch(/^latch=[A-Za-z0-9_-]{58}$/)
      reached.add(opened.backend)
    }
    expect(reached.size).toBe(3)
  })

  it('client-ip: upgrades and plain requests from one client address share one endpoint, whichever comes first', async () => {
    const bound = new Set<string>()
    for (const [index, address] of ['127.0.0.4', '127.0.0.5', '127.0.0.6'].entries()) {
      const viaHttp = index % 2 === 0
      const first = viaHttp
        ? String((await send({ port: latch.port, path: '/ip/page', localAddress: address })).headers['x-upstream'])
        : (await openSocket('/ip/socket', { localAddress: address })).backend
      bound.add(first)
      for (let i = 0; i < 3; i++) {
        expect((await openSocket('/ip/socket', { localAddress: address })).backend).toBe(first)
        expect((await send({ port: latch.port, path: '/ip/page', localAddress: address })).headers['x-upstream']).toBe(first)
      }
    }
    expect(bound.size).toBe(3)
  })

  it('without affinity, the same WebSockets spread over the endpoints', async () => {
    const reached = new Set<string>()
    for (let i = 0; i < 6; i++) reached.add((await openSocket('/plain/socket', { cookie: 'latch=whatever' })).backend)
    expect(reached.size).toBe(3)
  })

  it('a session whose endpoint is unavailable: rebind moves the WebSocket once with a new cookie; fail refuses it with 503 and Retry-After', async () => {
    const bound = await send({ port: latch.port, path: '/cookie/page' })
    const cookie = cookieOf(bound.headers['set-cookie'])
    const strict = await send({ port: latch.port, path: '/strict/page' })
    const strictCookie = cookieOf(strict.headers['set-cookie'])
    const downName = String(bound.headers['x-upstream'])
    const strictDown = backends.find((backend) => backend.name === String(strict.headers['x-upstream'])) as Backend
    const down = backends.find((backend) => backend.name === downName) as Backend
    const idOf = (backend: Backend): string => new URL(backend.url).host
    await endpointAction(latch, 'cookie', idOf(down), 'maintenance')
    await endpointAction(latch, 'strict', idOf(strictDown), 'maintenance')
    let moved: Opened | undefined
    let renewed = ''
    try {
      moved = await openSocket('/cookie/socket', { cookie })
      expect(moved.headers['x-latch-affinity']).toBe('rebound')
      expect(moved.backend).not.toBe(downName)
      renewed = cookieOf(moved.headers['set-cookie'] as string[] | undefined)
      expect(renewed).not.toBe(cookie)
      expect((await openSocket('/cookie/socket', { cookie: renewed })).backend).toBe(moved.backend)
      const refused = await refusedSocket('/strict/socket', strictCookie)
      expect(refused.status).toBe(503)
      expect(refused.headers['x-latch-error']).toBe('ERR_SESSION_UNAVAILABLE')
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0)
    } finally {
      await endpointAction(latch, 'cookie', idOf(down), 'undrain')
      await endpointAction(latch, 'strict', idOf(strictDown), 'undrain')
    }
    // Back in service, it does not pull the moved session back; the strict session is served again.
    expect((await openSocket('/strict/socket', { cookie: strictCookie })).backend).toBe(strictDown.name)
    expect((await openSocket('/cookie/socket', { cookie: renewed })).backend).toBe(moved?.backend)
  })

  it('with --workers 2, client-ip bindings made by one worker hold for upgrades served by the other (shared store, asynchronous lookups)', async () => {
    const workers = await startLatch({ args: ['--listen', '127.0.0.1:0', '--upstream', backends.map((backend) => backend.url).join(','), '--affinity', 'client-ip', '--workers', '2', '--access-log', 'off'], timeoutMs: 20_000 })
    try {
      const bound = new Set<string>()
      for (const address of ['127.0.0.41', '127.0.0.42', '127.0.0.43']) {
        // Each request opens a new connection, and connections alternate between the workers.
        const first = String((await send({ port: workers.port, path: '/page', localAddress: address })).headers['x-upstream'])
        bound.add(first)
        for (let i = 0; i < 4; i++) {
          const opened = await openSocket('/socket', { localAddress: address, port: workers.port })
          expect(opened.backend).toBe(first)
          expect(opened.headers['x-latch-affinity']).toBe('hit')
        }
      }
      expect(bound.size).toBeGreaterThan(1)
    } finally {
      await workers.stop()
    }
  })
})
