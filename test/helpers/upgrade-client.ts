/**
 * @module Raw upgrade requests (WebSocket and h2c) over a TCP socket, and an upstream that accepts
 * or refuses them, for tests of how Latch releases upgraded client connections.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'

/** The upgrade protocols tested: the WebSocket handshake and HTTP/2 over cleartext (h2c). */
export type UpgradeProtocol = 'websocket' | 'h2c'

/** An upgrade request head for `path` (no bytes after it). */
export function upgradeHead(path: string, protocol: UpgradeProtocol): string {
  const specific = protocol === 'websocket'
    ? 'Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
    : 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n'
  return `GET ${path} HTTP/1.1\r\nHost: app.test\r\n${specific}\r\n`
}

/**
 * How the client leaves: FIN once Latch's answer ended, a reset as soon as the answer begins, a reset
 * before any answer, or a FIN right after its bytes (a half-close: it still reads the answer).
 */
export type Departure = 'close' | 'reset-on-answer' | 'reset-at-once' | 'half-close'

/**
 * Sends `bytes` (a head, usually with bytes after it) and leaves as `departure` says; resolves with
 * what was received once the socket closed.
 */
export function sendAndLeave(port: number, bytes: string, departure: Departure): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(bytes)
      if (departure === 'reset-at-once') setTimeout(() => socket.resetAndDestroy(), 50)
      if (departure === 'half-close') socket.end()
    })
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      if (departure === 'reset-on-answer') socket.resetAndDestroy()
    })
    // Latch's answer to a refused upgrade is close-delimited: its end is the end of the answer.
    socket.on('end', () => socket.end())
    socket.on('error', () => socket.destroy())
    socket.on('close', () => resolve(text))
  })
}

/** The head of the answer to an upgrade request: status and headers (names lower-cased, repeated ones joined by `, `). */
export interface UpgradeAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  /** Every `Set-Cookie` value. */
  readonly cookies: readonly string[]
}

/** Sends `bytes` and resolves with the head of the answer (then closes), or rejects when the connection closes first. */
export function upgradeAnswer(port: number, bytes: string): Promise<UpgradeAnswer> {
  return new Promise((resolve, reject) => {
    let text = ''
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes))
    socket.on('error', () => socket.destroy())
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.destroy()
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n')
      const headers: Record<string, string> = {}
      const cookies: string[] = []
      for (const line of lines) {
        const colon = line.indexOf(':')
        const name = line.slice(0, colon).trim().toLowerCase()
        const value = line.slice(colon + 1).trim()
        if (name === 'set-cookie') cookies.push(value)
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, cookies })
    })
    socket.on('close', () => reject(new Error(`closed before an answer head: ${text.slice(0, 200)}`)))
  })
}

/** An open tunnel: the client socket, with what it received after the 101 head. */
export interface OpenTunnel {
  readonly socket: Socket
  received(): string
  /** Resolves once the client socket closed. */
  readonly closed: Promise<void>
}

/** Opens a tunnel to `path`; rejects unless Latch answers 101. */
export function openTunnel(port: number, path: string, protocol: UpgradeProtocol): Promise<OpenTunnel> {
  return new Promise((resolve, reject) => {
    let text = ''
    let opened = false
    const socket = connect(port, '127.0.0.1', () => socket.write(upgradeHead(path, protocol)))
    const closed = new Promise<void>((resolveClosed) => socket.once('close', () => resolveClosed()))
    socket.on('error', () => socket.destroy())
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (opened || end === -1) return
      opened = true
      if (!text.startsWith('HTTP/1.1 101')) {
        socket.destroy()
        reject(new Error(`expected 101, got: ${text.slice(0, 200)}`))
        return
      }
      text = text.slice(end + 4)
      resolve({ socket, received: () => text, closed })
    })
    void closed.then(() => {
      if (!opened) reject(new Error(`closed before the 101: ${text.slice(0, 200)}`))
    })
  })
}

/**
 * An upstream that accepts every upgrade, then by first path segment: `/echo` echoes and closes when the client
 * does; `/quiet` reads and never writes or closes (a half-close from the client stays a half-close);
 * `/stream` writes a byte every 200 ms until the connection closes; `/hangup` closes its side 100 ms
 * after the 101.
 */
export interface TunnelUpstream {
  readonly url: string
  /** Open upstream-side sockets of accepted tunnels, by request target (the latest; give each tunnel its own target). */
  readonly tunnels: Map<string, Socket>
  /**
   * Whether the upstream side of the tunnel to `target` is gone, after writing to it: a socket the
   * peer half-closed is not read any more, so that a reset from the peer is only seen on a write.
   */
  probeClosed(target: string): boolean
  stop(): Promise<void>
}

/** Starts a `node:http` server that accepts upgrades as {@link TunnelUpstream} says. */
export async function startTunnelUpstream(): Promise<TunnelUpstream> {
  const tunnels = new Map<string, Socket>()
  const open = new Set<Socket>()
  const server: Server = createServer((_req, res) => res.end('plain'))
  server.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const target = req.url ?? ''
    socket.on('error', () => socket.destroy())
    tunnels.set(target, socket)
    open.add(socket)
    socket.once('close', () => {
      open.delete(socket)
      if (tunnels.get(target) === socket) tunnels.delete(target)
    })
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade ?? ''}\r\n\r\n`)
    // The first path segment says what to do: /echo/anything?query echoes.
    const kind = target.split(/[/?]/)[1]
    if (kind === 'echo') socket.pipe(socket)
    else if (kind === 'hangup') setTimeout(() => socket.end(), 100)
    else if (kind === 'stream') {
      socket.resume()
      const timer = setInterval(() => socket.write('.'), 200)
      socket.once('close', () => clearInterval(timer))
    }
    else socket.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    tunnels,
    probeClosed(target) {
      const socket = tunnels.get(target)
      if (socket !== undefined && socket.writable) socket.write('probe')
      return !tunnels.has(target)
    },
    stop: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
