/**
 * WebSocket through Latch with the `ws` package: an echo round trip (text and binary, both ways), the
 * upgrade request's forwarding headers, and an upgrade to a refused endpoint answered with 502.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { rawRequest } from '../helpers/raw-http.js'
import { refusedUrl } from '../helpers/raw-upstream.js'

let server: Server
let wss: WebSocketServer
const upgrades: IncomingMessage[] = []
let latch: LatchProcess

beforeAll(async () => {
  server = createServer((_req, res) => res.end('plain'))
  wss = new WebSocketServer({ server })
  wss.on('connection', (socket, req) => {
    upgrades.push(req)
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const echo = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const prefix = (path: string, pool: string) => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      pools: [
        { name: 'echo', endpoints: [echo] },
        { name: 'refused', endpoints: [await refusedUrl()], retry: { attempts: 0 } },
      ],
      routes: { rules: [{ http: { paths: [prefix('/ws', 'echo'), prefix('/dead', 'refused')] } }] },
    },
  })
})

afterAll(async () => {
  await latch.stop()
  for (const client of wss.clients) client.terminate()
  wss.close()
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

function open(path: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${latch.port}${path}`, { headers: { 'x-request-id': 'ws-req-1' } })
    socket.once('open', () => resolve(socket))
    socket.once('error', reject)
  })
}

function nextMessage(socket: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => socket.once('message', (data, isBinary) => resolve({ data: data as Buffer, isBinary })))
}

describe('WebSocket through Latch', () => {
  it('echoes text and binary messages both ways', async () => {
    const socket = await open('/ws/echo?room=1')
    const text = nextMessage(socket)
    socket.send('hello through latch')
    expect(await text).toEqual({ data: Buffer.from('hello through latch'), isBinary: false })
    const payload = Buffer.alloc(200_000, 7)
    const binary = nextMessage(socket)
    socket.send(payload)
    const echoed = await binary
    expect(echoed.isBinary).toBe(true)
    expect(echoed.data.equals(payload)).toBe(true)
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)))
    socket.close(1000)
    expect(await closed).toBe(1000)
  })

  it('the upstream sees the routed path, forwarding headers and the propagated request id', async () => {
    const socket = await open('/ws/headers?x=1')
    const req = upgrades.at(-1) as IncomingMessage
    expect(req.url).toBe('/ws/headers?x=1')
    expect(req.headers).toMatchObject({ upgrade: 'websocket', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-request-id': 'ws-req-1', via: '1.1 latch' })
    socket.terminate()
  })

  it('an upgrade to a refused endpoint is answered 502 ERR_UPSTREAM_CONNECT', async () => {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${latch.port}/dead`)
      socket.once('unexpected-response', (_req, res) => resolve(res))
      socket.once('open', () => reject(new Error('upgrade to a refused endpoint succeeded')))
      socket.once('error', reject)
    })
    expect(response.statusCode).toBe(502)
    expect(response.headers['x-latch-error']).toBe('ERR_UPSTREAM_CONNECT')
    expect(response.headers['x-request-id']).toMatch(/\S/)
    response.destroy()
  })

  it('after the 502 the client connection is closed', async () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ=='
    const raw = await rawRequest(latch.port, `GET /dead HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`, 3000)
    expect(raw.status).toBe(502)
    expect(raw.closed).toBe(true)
  })

  it('an upgrade with no route is answered 404 ERR_NO_ROUTE', async () => {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const socket = new WebSocket(`ws://127.0.0.1:${latch.port}/nowhere`)
      socket.once('unexpected-response', (_req, res) => resolve(res))
      socket.once('error', reject)
    })
    expect(response.statusCode).toBe(404)
    expect(response.headers['x-latch-error']).toBe('ERR_NO_ROUTE')
    response.destroy()
  })
})
