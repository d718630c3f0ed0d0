/**
 * A client that goes away stops the upstream work: the upstream sees its request/connection closed
 * within a bounded time, and the access line says 499 / ERR_CLIENT_ABORTED.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { connect, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { waitFor } from '../helpers/wait.js'

/** One request as the upstream saw it, with when it saw the request/connection close. */
interface Seen {
  readonly url: string
  bodyBytes: number
  closedAt: number | undefined
  completed: boolean
}

let upstream: Server
const seen: Seen[] = []
let latch: LatchProcess
// Generous: the point is "bounded", not fast; other test files share the 2 cores.
const BOUND_MS = 5000

/** Streams a response slowly (never ends by itself), or reads the body slowly, recording the close. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  const entry: Seen = { url: req.url ?? '', bodyBytes: 0, closedAt: undefined, completed: false }
  seen.push(entry)
  res.on('close', () => (entry.closedAt ??= Date.now()))
  req.on('data', (chunk: Buffer) => (entry.bodyBytes += chunk.length))
  req.on('end', () => (entry.completed = true))
  if (req.url === '/download') {
    res.writeHead(200, { 'content-type': 'application/octet-stream' })
    const timer = setInterval(() => res.write(Buffer.alloc(1024, 120)), 20)
    res.on('close', () => clearInterval(timer))
  }
  // /upload and /wait: never answer; the client is the one that gives up.
}

beforeAll(async () => {
  upstream = createServer(handle)
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      pools: [{ name: 'slow', endpoints: [url] }],
    },
  })
})

afterAll(async () => {
  await latch.stop()
  upstream.closeAllConnections()
  await new Promise((resolve) => upstream.close(resolve))
})

async function expectAbortLogged(path: string): Promise<void> {
  const line = await waitFor(() => accessLines(latch).find((entry) => entry.path === path), 5000, 20, `access line for ${path}`)
  expect(line).toMatchObject({ status: 499, code: 'ERR_CLIENT_ABORTED' })
}

async function upstreamClosed(path: string, abortedAt: () => number): Promise<Seen> {
  const entry = await waitFor(() => seen.find((item) => item.url === path && item.closedAt !== undefined), BOUND_MS, 20, `upstream to see ${path} closed`)
  expect((entry.closedAt as number) - abortedAt()).toBeLessThan(BOUND_MS)
  return entry
}

describe('client abort', () => {
  it('mid-response: the upstream sees its response closed, the access line says 499', async () => {
    let abortedAt = 0
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: latch.port, path: '/download', agent: false }, (res) => {
        expect(res.statusCode).toBe(200)
        res.once('data', () => {
          abortedAt = Date.now()
          req.destroy()
          resolve()
        })
      })
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? undefined : reject(error)))
      req.end()
    })
    await upstreamClosed('/download', () => abortedAt)
    await expectAbortLogged('/download')
  })

  it('while waiting for response headers: the upstream sees the request closed', async () => {
    const socket = connect(latch.port, '127.0.0.1')
    socket.write('GET /wait HTTP/1.1\r\nHost: app.test\r\n\r\n')
    await waitFor(() => seen.some((item) => item.url === '/wait'), BOUND_MS, 20, 'upstream to receive /wait')
    const abortedAt = Date.now()
    socket.destroy()
    await upstreamClosed('/wait', () => abortedAt)
    await expectAbortLogged('/wait')
  })

  it.each([
    // More than server.requestBody.bufferSize (64 KiB), so the request is forwarded before its body ends.
    ['chunked', '/upload', 'POST /upload HTTP/1.1\r\nHost: app.test\r\nTransfer-Encoding: chunked\r\n\r\n11000\r\n' + 'u'.repeat(0x11000) + '\r\n', 0x11000],
    ['Content-Length', '/upload-fixed', 'PUT /upload-fixed HTTP/1.1\r\nHost: app.test\r\nContent-Length: 100000\r\n\r\n' + 'u'.repeat(70_000), 70_000],
  ])('mid-upload (%s): the upstream sees the request closed before its body ended', async (_framing, path, bytes, sentBytes) => {
    const socket = connect(latch.port, '127.0.0.1')
    socket.write(bytes)
    await waitFor(() => seen.find((item) => item.url === path)?.bodyBytes === sentBytes, BOUND_MS, 20, 'upstream to receive the first bytes')
    const abortedAt = Date.now()
    socket.destroy()
    const entry = await upstreamClosed(path, () => abortedAt)
    expect(entry.completed).toBe(false)
    await expectAbortLogged(path)
  })

  it('while its body is being buffered: no endpoint ever sees the request, the access line says 499', async () => {
    const socket = connect(latch.port, '127.0.0.1')
    socket.write('POST /buffering HTTP/1.1\r\nHost: app.test\r\nContent-Length: 1000\r\n\r\n' + 'u'.repeat(500))
    await new Promise((resolve) => setTimeout(resolve, 300))
    socket.destroy()
    await expectAbortLogged('/buffering')
    expect(seen.some((item) => item.url === '/buffering')).toBe(false)
  })
})
