/**
 * Request body buffering and the minimum upload rate (`server.requestBody`), through the real CLI:
 * what the endpoint sees, what a slow client gets, and that an endpoint's own slowness is never
 * blamed on the client.
 */
import { createHash } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import { connect, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { scrapeMetrics } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { parseRawResponse } from '../helpers/raw-http.js'
import { valueOf } from '../helpers/prometheus-text.js'
import { sleep } from '../helpers/traffic.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let latch: LatchProcess | undefined
let upstream: TestUpstream | undefined
let servers: Server[] = []
const sockets: Socket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await latch?.stop()
  await upstream?.stop()
  for (const server of servers) server.closeAllConnections()
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  latch = undefined
  upstream = undefined
  servers = []
})

async function start(requestBody: Record<string, unknown>, endpoint: { url: string } | undefined = undefined, server: Record<string, unknown> = {}): Promise<LatchProcess> {
  if (endpoint === undefined) upstream = await startUpstream('u')
  latch = await startLatch({
    config: { listen: '127.0.0.1:0', log: { level: 'info', access: 'off' }, server: { ...server, requestBody }, pools: [{ name: 'web', endpoints: [(endpoint ?? upstream)?.url] }] },
  })
  return latch
}

/** A raw client connection that collects what the server sends and notices when it closes. */
function rawClient(port: number): { socket: Socket; text: () => string; closed: Promise<void> } {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  let text = ''
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')))
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  return { socket, text: () => text, closed }
}

const head = (framing: string): string => `POST /upload HTTP/1.1\r\nHost: bodies.test\r\n${framing}\r\n\r\n`

describe('request body buffering (server.requestBody.bufferSize)', () => {
  it('reads a small body whole before the endpoint sees the request, and sends a chunked one with Content-Length', async () => {
    const latch = await start({})
    const client = rawClient(latch.port)
    client.socket.write(head('Content-Length: 1000') + 'a'.repeat(600))
    await sleep(500)
    // The request is not forwarded while its body is incomplete: no upstream slot is taken.
    expect(upstream?.heads).toHaveLength(0)
    client.socket.write('a'.repeat(400))
    await waitFor(() => client.text().includes('"bodyBytes":1000'), 5000, 20, 'the echo of the whole body')
    expect(upstream?.arrivals[0]?.headers['content-length']).toBe('1000')

    const chunked = await request(`${latch.url}/chunked`, { method: 'POST', body: Readable.from([Buffer.alloc(300, 'b'), Buffer.alloc(200, 'c')]) })
    expect(chunked.statusCode).toBe(200)
    expect(await chunked.body.json()).toMatchObject({ bodyBytes: 500 })
    const arrival = upstream?.arrivals[1]
    expect(arrival?.headers['content-length']).toBe('500')
    expect(arrival?.headers['transfer-encoding']).toBeUndefined()

    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_request_bodies_buffered_total', { pool: 'web', kind: 'whole' })).toBe(2)
    expect(valueOf(families, 'latch_request_body_buffered_bytes_total', { pool: 'web' })).toBe(1500)
  })

  it('answers 408 ERR_BODY_TIMEOUT and closes when the buffered part does not arrive within bufferTimeout; no endpoint sees it', async () => {
    const latch = await start({ bufferTimeout: '1s' })
    const client = rawClient(latch.port)
    const sentAt = Date.now()
    client.socket.write(head('Content-Length: 100') + 'x'.repeat(10))
    await client.closed
    const response = parseRawResponse(client.text())
    expect(response.status).toBe(408)
    expect(response.headers['x-latch-error']).toBe('ERR_BODY_TIMEOUT')
    expect(response.headers.connection).toBe('close')
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(900)
    expect(upstream?.heads).toHaveLength(0)
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_request_body_cuts_total', { pool: 'web', reason: 'buffer_timeout' })).toBe(1)
  })

  it('streams the rest of a larger body after its first bufferSize bytes, byte-exact', async () => {
    const latch = await start({ bufferSize: '1KiB' })
    const body = Buffer.alloc(200_000)
    for (let i = 0; i < body.length; i++) body[i] = (i * 31) % 251
    const response = await request(`${latch.url}/big`, { method: 'POST', body })
    const echoed = (await response.body.json()) as { bodyBytes: number; bodySha256: string }
    expect(response.statusCode).toBe(200)
    expect(echoed.bodyBytes).toBe(200_000)
    expect(echoed.bodySha256).toBe(createHash('sha256').update(body).digest('hex'))
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_request_bodies_buffered_total', { pool: 'web', kind: 'prefix' })).toBe(1)
  })
})

describe('minimum upload rate (server.requestBody.minRate)', () => {
  it('cuts a streamed body that stalls with 408 ERR_BODY_TOO_SLOW and aborts the upstream request', async () => {
    const latch = await start({ bufferSize: '1KiB', minRate: { bytes: '1KiB', window: '1s' } })
    const client = rawClient(latch.port)
    client.socket.write(head('Content-Length: 100000') + 'y'.repeat(2048))
    await waitFor(() => upstream?.heads.length === 1, 5000, 20, 'the request at the endpoint')
    await client.closed
    const response = parseRawResponse(client.text())
    expect(response.status).toBe(408)
    expect(response.headers['x-latch-error']).toBe('ERR_BODY_TOO_SLOW')
    // The endpoint never got the end of the body: its request was aborted, not completed.
    await sleep(200)
    expect(upstream?.arrivals).toHaveLength(0)
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_request_body_cuts_total', { pool: 'web', reason: 'min_rate' })).toBe(1)
  })

  it('cuts the client connection when the response had already started', async () => {
    // An endpoint that answers at once and then reads the body (a streaming echo, say).
    const early = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('started\n')
      req.resume()
      req.on('end', () => res.end('done\n'))
    })
    servers.push(early)
    await new Promise<void>((resolve) => early.listen(0, '127.0.0.1', resolve))
    const latch = await start({ bufferSize: '1KiB', minRate: { bytes: '1KiB', window: '1s' } }, { url: `http://127.0.0.1:${(early.address() as AddressInfo).port}` })
    const client = rawClient(latch.port)
    client.socket.write(head('Content-Length: 100000') + 'z'.repeat(2048))
    await waitFor(() => client.text().includes('started'), 5000, 20, 'the start of the response')
    await client.closed
    expect(client.text()).toMatch(/^HTTP\/1\.1 200/)
    expect(client.text()).not.toContain('done')
  })

  it('does not blame the client while the endpoint is the one not reading', async () => {
    // The endpoint reads nothing for 3 s (three windows): the client is blocked by backpressure, not slow.
    const lazy = createServer((req, res) => {
      let bytes = 0
      req.pause()
      setTimeout(() => {
        req.on('data', (chunk: Buffer) => (bytes += chunk.length))
        req.on('end', () => res.end(String(bytes)))
        req.resume()
      }, 3000)
    })
    servers.push(lazy)
    await new Promise<void>((resolve) => lazy.listen(0, '127.0.0.1', resolve))
    const latch = await start({ bufferSize: '1KiB', minRate: { bytes: '1KiB', window: '1s' } }, { url: `http://127.0.0.1:${(lazy.address() as AddressInfo).port}` }, { maxBodySize: '64MiB' })
    // Far more than the kernel and stream buffers between client and endpoint hold.
    const body = Buffer.alloc(48 * 1024 * 1024, 'q')
    const response = await request(`${latch.url}/lazy`, { method: 'POST', body, headersTimeout: 30_000 })
    expect(response.statusCode).toBe(200)
    expect(await response.body.text()).toBe(String(body.length))
  })
})
