/**
 * @module An upstream that requires a PROXY protocol header first on every connection, read with
 * Latch's own parser (v1 or v2), and then speaks HTTP/1.1 (or HTTPS: the header comes before TLS).
 * A connection without a valid header is closed unanswered, as nginx's `proxy_protocol` does.
 * Every answer names the connection it came on and what its header said, so tests can tell which
 * client an upstream connection speaks for and whether two clients ever shared one.
 */
import { readFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net'
import { parseProxyHeader, type ProxiedSource } from '../../src/net/proxy-protocol-header.js'

/** One connection the upstream accepted, with what its header said and the request targets it carried. */
export interface ReceivedConnection {
  readonly id: number
  readonly version: 1 | 2
  /** undefined for v1 UNKNOWN and v2 LOCAL (no client named). */
  readonly source: ProxiedSource | undefined
  readonly targets: string[]
}

/** What the upstream answers a plain request with (JSON). */
export interface ProxyEcho {
  readonly connection: number
  readonly version: 1 | 2
  readonly source: ProxiedSource | null
}

export interface ProxyProtocolUpstream {
  readonly url: string
  readonly connections: ReceivedConnection[]
  /** Connections closed for a missing or invalid header. */
  readonly refused: () => number
  stop(): Promise<void>
}

/** Starts the upstream on 127.0.0.1; `tls` (certificate and key files) makes it HTTPS after the header. */
export async function startProxyProtocolUpstream(tls?: { cert: string; key: string }): Promise<ProxyProtocolUpstream> {
  const connections: ReceivedConnection[] = []
  const bySocket = new WeakMap<Socket, ReceivedConnection>()
  const sockets = new Set<Socket>()
  let refused = 0
  // A TLSSocket made from an accepted socket keeps it as `_parent`.
  const connectionOf = (socket: Socket): ReceivedConnection => (bySocket.get(socket) ?? bySocket.get((socket as Socket & { _parent: Socket })._parent)) as ReceivedConnection
  const answer: RequestListener = (req, res) => {
    const connection = connectionOf(req.socket)
    connection.targets.push(req.url ?? '')
    req.resume()
    const echo: ProxyEcho = { connection: connection.id, version: connection.version, source: connection.source ?? null }
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end(JSON.stringify(echo))
  }
  const web: Server = tls === undefined ? createHttpServer(answer) : createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, answer)
  web.on('upgrade', (req: IncomingMessage, socket: Socket) => {
    const connection = connectionOf(req.socket)
    connection.targets.push(req.url ?? '')
    socket.on('error', () => socket.destroy())
    const source = connection.source === undefined ? 'none' : `${connection.source.address} ${connection.source.port}`
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nX-Connection: ${connection.id}\r\nX-Proxy-Version: ${connection.version}\r\nX-Proxy-Source: ${source}\r\n\r\n`)
    socket.resume()
  })
  const raw = createTcpServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let buffered = Buffer.alloc(0)
    // Read in paused mode, as Latch's listener gate does: the bytes after the header, pushed back with
    // unshift, are then read first by node:http or node:tls.
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        buffered = Buffer.concat([buffered, chunk])
        const result = parseProxyHeader(buffered, 'either')
        if (result.kind === 'incomplete') continue
        socket.off('readable', onReadable)
        if (result.kind === 'invalid') {
          refused++
          socket.destroy()
          return
        }
        const connection: ReceivedConnection = { id: connections.length + 1, version: result.version, source: result.source, targets: [] }
        connections.push(connection)
        bySocket.set(socket, connection)
        if (buffered.length > result.length) socket.unshift(buffered.subarray(result.length))
        web.emit('connection', socket)
        return
      }
    }
    socket.on('readable', onReadable)
  })
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
  const { port } = raw.address() as AddressInfo
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    connections,
    refused: () => refused,
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        raw.close(() => resolve())
      }),
  }
}
