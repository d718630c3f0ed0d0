/**
 * `learn` affinity with real applications behind the real CLI:
 * - three Express apps with the real `express-session` middleware (each keeps sessions in its own
 *   memory): once an app sets `connect.sid`, every request carrying it reaches that app, so a login
 *   holds; without affinity the same requests land on apps that do not know the session.
 * - three real Socket.IO servers with the `socket.io-client` polling transport: Latch learns the
 *   Engine.IO `sid` from the handshake body (`source: query`) or binds with its own cookie on the
 *   very first polling response (`cookie` mode), so the handshake, the long-polling requests and the
 *   upgrade to WebSocket reach the one server that knows the session; without affinity the client
 *   fails ("Session ID unknown").
 */
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import express from 'express'
import session from 'express-session'
import { Server as SocketIoServer } from 'socket.io'
import { io, type Socket as ClientSocket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../helpers/http-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'

declare module 'express-session' {
  interface SessionData {
    user: string
  }
}

interface App {
  readonly name: string
  readonly url: string
  readonly server: HttpServer
  readonly io: SocketIoServer[]
  /** Engine.IO requests that named a session this server does not know. */
  unknownSessions: number
}

const SOCKET_PATHS = ['/learn/socket.io', '/cookie/socket.io', '/none/socket.io']

let apps: App[]
let latch: LatchProcess

async function startApp(name: string): Promise<App> {
  const app = express()
  app.use(session({ secret: `express-secret-${name}`, resave: false, saveUninitialized: false }))
  app.post('/app/login', (req, res) => {
    req.session.user = String(req.query.user)
    res.set('x-upstream', name).json({ user: req.session.user, app: name })
  })
  app.get('/app/me', (req, res) => {
    res.set('x-upstream', name)
    if (req.session.user === undefined) res.status(401).json({ error: 'not logged in', app: name })
    else res.json({ user: req.session.user, app: name })
  })
  const server = createServer(app)
  const created: App = { name, url: '', server, io: [], unknownSessions: 0 }
  for (const path of SOCKET_PATHS) {
    const sio = new SocketIoServer(server, { path, serveClient: false })
    sio.engine.on('connection_error', (error: { code: number; message: string }) => {
      if (error.code === 1 && error.message === 'Session ID unknown') created.unknownSessions++
    })
    sio.on('connection', (socket) => {
      socket.on('whoami', (ack: (answer: { app: string; transport: string }) => void) => ack({ app: name, transport: socket.conn.transport.name }))
    })
    created.io.push(sio)
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(created, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
}

beforeAll(async () => {
  apps = await Promise.all(['a', 'b', 'c'].map((name) => startApp(name)))
  const urls = apps.map((app) => app.url)
  const prefix = (path: string, pool: string): object => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      log: { level: 'info', access: 'off' },
      sessionSecrets: ['learn-test-secret-0123456789abcdef'],
      pools: [
        { name: 'express', endpoints: urls, affinity: { mode: 'learn', learn: { source: 'cookie', name: 'connect.sid' }, responseHeader: true } },
        { name: 'express-plain', endpoints: urls },
        { name: 'sio-learn', endpoints: urls, affinity: { mode: 'learn', learn: { source: 'query', name: 'sid' }, responseHeader: true } },
        { name: 'sio-cookie', endpoints: urls, affinity: { mode: 'cookie', responseHeader: true } },
        { name: 'sio-none', endpoints: urls },
      ],
      routes: {
        rules: [
          { host: 'plain.test', http: { paths: [prefix('/app', 'express-plain')] } },
          { http: { paths: [prefix('/app', 'express'), prefix('/learn', 'sio-learn'), prefix('/cookie', 'sio-cookie'), prefix('/none', 'sio-none')] } },
        ],
      },
    },
  })
})

afterAll(async () => {
  await latch.stop()
  for (const app of apps) {
    for (const sio of app.io) sio.disconnectSockets(true)
    await Promise.all(app.io.map((sio) => new Promise((resolve) => sio.close(resolve))))
    app.server.closeAllConnections()
  }
})

async function login(user: string, host?: string): Promise<{ cookie: string; app: string; outcome: unknown }> {
  const response = await send({ port: latch.port, path: `/app/login?user=${user}`, method: 'POST', headers: host === undefined ? {} : { host } })
  expect(response.status).toBe(200)
  const line = (response.headers['set-cookie'] ?? []).find((value) => value.startsWith('connect.sid='))
  expect(line).toBeDefined()
  // Latch's learn mode sets no cookie of its own.
  expect(response.headers['set-cookie']?.some((value) => value.startsWith('latch='))).toBe(false)
  return { cookie: (line as string).split(';')[0] as string, app: String(response.headers['x-upstream']), outcome: response.headers['x-latch-affinity'] }
}

describe('learn mode with express-session (connect.sid)', () => {
  it('once an app sets connect.sid, every request carrying it reaches that app', async () => {
    const users = ['ann', 'bob', 'cid']
    const sessions = []
    for (const user of users) sessions.push(await login(user))
    // A login carries no session id yet: balanced normally (round-robin), nothing to bind.
    expect(sessions.map((entry) => entry.outcome)).toEqual([undefined, undefined, undefined])
    expect(new Set(sessions.map((entry) => entry.app)).size).toBe(3)
    for (let round = 0; round < 4; round++) {
      for (const [index, entry] of sessions.entries()) {
        const response = await send({ port: latch.port, path: '/app/me', headers: { cookie: `theme=dark; ${entry.cookie}` } })
        expect(response.status).toBe(200)
        expect(response.json).toEqual({ user: users[index], app: entry.app })
        expect(response.headers['x-latch-affinity']).toBe('hit')
      }
    }
  })

  it('without affinity, the same requests reach apps that do not know the session', async () => {
    const entry = await login('dan', 'plain.test')
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await send({ port: latch.port, path: '/app/me', headers: { host: 'plain.test', cookie: entry.cookie } })).status)
    expect(statuses.filter((status) => status === 401).length).toBeGreaterThan(0)
  })

  it('a session id no app ever set is balanced normally, and does not break other sessions', async () => {
    const response = await send({ port: latch.port, path: '/app/me', headers: { cookie: 'connect.sid=s%3Aforged.signature' } })
    expect(response.status).toBe(401)
    const entry = await login('eve')
    const again = await send({ port: latch.port, path: '/app/me', headers: { cookie: entry.cookie } })
    expect(again.json).toEqual({ user: 'eve', app: entry.app })
  })
})

/** Connects a Socket.IO client over long-polling (optionally upgrading) and asks the server who it is a few times. */
async function socketIoRoundTrips(path: string, options: { upgrade: boolean; cookies: boolean }): Promise<{ apps: string[]; transports: string[] }> {
  const client: ClientSocket = io(`http://127.0.0.1:${latch.port}`, {
    path,
    transports: options.upgrade ? ['polling', 'websocket'] : ['polling'],
    upgrade: options.upgrade,
    reconnection: false,
    forceNew: true,
    withCredentials: options.cookies,
    timeout: 3000,
  })
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', resolve)
      client.once('connect_error', reject)
      client.once('disconnect', (reason) => reject(new Error(`disconnected: ${reason}`)))
    })
    const answers: { app: string; transport: string }[] = []
    for (let i = 0; i < 6; i++) {
      if (options.upgrade && i === 3) {
        // Give the client time to finish its upgrade to WebSocket (its probe goes through Latch too).
        await new Promise<void>((resolve) => (client.io.engine.transport.name === 'websocket' ? resolve() : client.io.engine.once('upgrade', () => resolve())))
      }
      answers.push(await client.timeout(3000).emitWithAck('whoami'))
    }
    return { apps: answers.map((answer) => answer.app), transports: answers.map((answer) => answer.transport) }
  } finally {
    client.disconnect()
  }
}

describe('Socket.IO long-polling across three servers', () => {
  it('learn (source: query, name: sid): the handshake, the polling requests and the WebSocket upgrade reach one server', async () => {
    const before = apps.reduce((sum, app) => sum + app.unknownSessions, 0)
    const seen = new Set<string>()
    for (let i = 0; i < 3; i++) {
      const result = await socketIoRoundTrips('/learn/socket.io', { upgrade: i === 2, cookies: false })
      expect(new Set(result.apps).size).toBe(1)
      seen.add(result.apps[0] as string)
      if (i === 2) expect(result.transports.at(-1)).toBe('websocket')
      else expect(result.transports).toEqual(Array(6).fill('polling'))
    }
    // Each new client was balanced anew.
    expect(seen.size).toBeGreaterThan(1)
    expect(apps.reduce((sum, app) => sum + app.unknownSessions, 0)).toBe(before)
  })

  it('cookie mode: Latch\'s cookie on the very first polling response keeps the client on one server', async () => {
    const before = apps.reduce((sum, app) => sum + app.unknownSessions, 0)
    for (let i = 0; i < 3; i++) {
      const result = await socketIoRoundTrips('/cookie/socket.io', { upgrade: i === 2, cookies: true })
      expect(new Set(result.apps).size).toBe(1)
    }
    expect(apps.reduce((sum, app) => sum + app.unknownSessions, 0)).toBe(before)
  })

  it('without affinity the same client fails: the servers answer "Session ID unknown"', async () => {
    const before = apps.reduce((sum, app) => sum + app.unknownSessions, 0)
    await expect(socketIoRoundTrips('/none/socket.io', { upgrade: false, cookies: true })).rejects.toThrow()
    expect(apps.reduce((sum, app) => sum + app.unknownSessions, 0)).toBeGreaterThan(before)
  })
})
