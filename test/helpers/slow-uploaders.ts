/**
 * @module Abusive and normal clients for the slow-upload tests: raw sockets that trickle request
 * bodies, and a paced stream of ordinary requests that records how each one ended.
 */
import { connect, type Socket } from 'node:net'
import { Agent, request } from 'undici'

/** How a slow uploader frames its body. */
export type UploadFraming = 'content-length' | 'chunked'

/** Counts kept by a crowd of slow uploaders. */
export interface SlowUploadStats {
  /** Connections opened (a cut uploader reconnects while the crowd runs). */
  connections: number
  /** Bytes of body written, all uploaders together. */
  bytes: number
  /** Status codes of the responses uploaders received (first response per connection). */
  readonly statuses: Map<number, number>
  /** Connections closed by the server without any response. */
  closedWithoutResponse: number
}

/** A running crowd of slow uploaders. */
export interface SlowUploaders {
  readonly stats: SlowUploadStats
  stop(): void
}

/**
 * Starts `count` uploaders, each on its own connection, that POST a body announced as `declared`
 * bytes (Content-Length, or chunked for half of them when `framing` is 'mixed'), send `burst` bytes
 * at once (default none) and then `bytesPerSecond` bytes each second. A cut uploader opens a new connection at once, so the
 * pressure stays constant until stop().
 */
export function startSlowUploaders(port: number, options: { count: number; bytesPerSecond: number; declared: number; framing: UploadFraming | 'mixed'; path?: string; burst?: number }): SlowUploaders {
  const stats: SlowUploadStats = { connections: 0, bytes: 0, statuses: new Map(), closedWithoutResponse: 0 }
  const sockets = new Set<Socket>()
  const piece = Buffer.alloc(options.bytesPerSecond, 'x')
  const burst = Buffer.alloc(options.burst ?? 0, 'x')
  let running = true
  const open = (index: number): void => {
    if (!running) return
    const framing: UploadFraming = options.framing === 'mixed' ? (index % 2 === 0 ? 'content-length' : 'chunked') : options.framing
    const length = framing === 'content-length' ? `Content-Length: ${options.declared}` : 'Transfer-Encoding: chunked'
    const socket = connect(port, '127.0.0.1')
    stats.connections++
    sockets.add(socket)
    let answered = false
    socket.setNoDelay(true)
    socket.on('connect', () => {
      socket.write(`POST ${options.path ?? '/upload'}/${index} HTTP/1.1\r\nHost: upload.test\r\nContent-Type: application/octet-stream\r\n${length}\r\n\r\n`)
      // A burst first (bench only): a client that gets past the read-ahead, then trickles.
      if (burst.length > 0) socket.write(framing === 'chunked' ? Buffer.concat([Buffer.from(`${burst.length.toString(16)}\r\n`), burst, Buffer.from('\r\n')]) : burst)
    })
    const timer = setInterval(() => {
      if (!socket.writable) return
      socket.write(framing === 'chunked' ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece)
      stats.bytes += piece.length
    }, 1000)
    socket.on('data', (chunk: Buffer) => {
      if (answered) return
      answered = true
      const match = /^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))
      const status = match === null ? 0 : Number(match[1])
      stats.statuses.set(status, (stats.statuses.get(status) ?? 0) + 1)
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      clearInterval(timer)
      sockets.delete(socket)
      if (!answered) stats.closedWithoutResponse++
      // Stagger reconnections a little, so a crowd cut at once does not come back as one burst.
      if (running) setTimeout(open, 20 + (index % 50), index)
    })
  }
  for (let index = 0; index < options.count; index++) setTimeout(open, index % 100, index)
  return {
    stats,
    stop() {
      running = false
      for (const socket of sockets) socket.destroy()
    },
  }
}

/** How the ordinary requests ended. */
export interface NormalOutcomes {
  sent: number
  ok: number
  /** Failures by `x-latch-error` code, status, or the client-side error code. */
  readonly failures: Map<string, number>
}

/** A running stream of ordinary requests. */
export interface NormalTraffic {
  readonly outcomes: NormalOutcomes
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>
}

/**
 * Sends `perSecond` ordinary requests a second, alternating a GET and a POST with a small body, each
 * given `timeoutMs` to complete; a 2xx counts as ok.
 */
export function startNormalTraffic(url: string, options: { perSecond: number; timeoutMs: number; postBytes: number }): NormalTraffic {
  const outcomes: NormalOutcomes = { sent: 0, ok: 0, failures: new Map() }
  const dispatcher = new Agent({ connections: 64, headersTimeout: options.timeoutMs, bodyTimeout: options.timeoutMs })
  const body = Buffer.alloc(options.postBytes, 'n')
  const inflight = new Set<Promise<void>>()
  const fail = (reason: string): void => void outcomes.failures.set(reason, (outcomes.failures.get(reason) ?? 0) + 1)
  let stopped: Promise<void> | undefined
  const one = async (index: number): Promise<void> => {
    try {
      const post = index % 2 === 1
      const response = await request(`${url}/normal/${index}`, { dispatcher, method: post ? 'POST' : 'GET', ...(post ? { body } : {}) })
      await response.body.dump()
      if (response.statusCode >= 200 && response.statusCode < 300) outcomes.ok++
      else fail(String(response.headers['x-latch-error'] ?? response.statusCode))
    } catch (error) {
      fail((error as { code?: string }).code ?? 'error')
    }
  }
  const timer = setInterval(() => {
    const index = outcomes.sent++
    const pending = one(index)
    inflight.add(pending)
    void pending.finally(() => inflight.delete(pending))
  }, 1000 / options.perSecond)
  return {
    outcomes,
    stop() {
      clearInterval(timer)
      stopped ??= Promise.all(inflight).then(() => dispatcher.close())
      return stopped
    },
  }
}
