/**
 * @module A real HTTP upstream on 127.0.0.1 for tests, whose behaviour can be switched at runtime.
 */
import { createHash } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** What the upstream does with the next requests. */
export type UpstreamMode =
  | { kind: 'echo' }
  | { kind: 'status'; status: number }
  | { kind: 'hang' }
  | { kind: 'reset' }
  | { kind: 'delay'; ms: number }
  | { kind: 'custom'; handle: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void }

/** One request as the upstream saw it. */
export interface Arrival {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: readonly string[]
  readonly bodyBytes: number
  readonly bodySha256: string
  readonly httpVersion: string
}

/** A running test upstream. */
export interface TestUpstream {
  readonly name: string
  readonly port: number
  readonly url: string
  readonly arrivals: Arrival[]
  /** Requests whose head arrived, complete or not (arrivals only records requests that ended). */
  readonly heads: Arrival[]
  mode: UpstreamMode
  /** Responds to the health path separately (for health-check tests). */
  healthStatus: number
  /** Stops listening and destroys every connection (connections are refused afterwards). */
  stop(): Promise<void>
  /** Listens again on the same port. */
  restart(): Promise<void>
}

const HEALTH_PATH = '/healthz'

/**
 * Starts an upstream that echoes each request as JSON and names itself in `x-upstream`. `host`
 * (default 127.0.0.1) may be any loopback address, e.g. 127.0.0.2 for DNS tests that need several
 * addresses with one port (Linux routes all of 127.0.0.0/8 to lo).
 */
export async function startUpstream(name: string, options: { port?: number; host?: string; mode?: UpstreamMode; streamBodies?: boolean } = {}): Promise<TestUpstream> {
  const host = options.host ?? '127.0.0.1'
  const sockets = new Set<Socket>()
  let server: Server
  const upstream: TestUpstream = {
    name,
    port: options.port ?? 0,
    url: '',
    arrivals: [],
    heads: [],
    mode: options.mode ?? { kind: 'echo' },
    healthStatus: 200,
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const socket of sockets) socket.destroy()
      })
    },
    async restart() {
      server = makeServer()
      await listen(server, upstream.port, host)
    },
  }
  const makeServer = (): Server => {
    const created = createServer({ keepAliveTimeout: 10_000 }, (req, res) => handle(upstream, req, res, options.streamBodies === true))
    created.on('connection', (socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    return created
  }
  server = makeServer()
  const port = await listen(server, upstream.port, host)
  Object.assign(upstream, { port, url: `http://${host}:${port}` })
  return upstream
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port))
  })
}

function handle(upstream: TestUpstream, req: IncomingMessage, res: ServerResponse, streamBodies: boolean): void {
  if (req.url === HEALTH_PATH) {
    req.resume()
    res.writeHead(upstream.healthStatus, { 'content-type': 'text/plain' })
    res.end(upstream.healthStatus < 400 ? 'ok' : 'unhealthy')
    return
  }
  upstream.heads.push(arrival(req, 0, ''))
  const mode = upstream.mode
  if (mode.kind === 'reset') {
    req.socket.destroy()
    recordLater(upstream, req)
    return
  }
  if (mode.kind === 'hang') {
    recordLater(upstream, req)
    return
  }
  if (streamBodies && mode.kind === 'echo') {
    // Echo the body back as it arrives, never holding it in memory.
    const hash = createHash('sha256')
    let bytes = 0
    res.writeHead(200, { 'x-upstream': upstream.name, 'content-type': 'application/octet-stream' })
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk)
      bytes += chunk.length
      if (!res.write(chunk)) {
        req.pause()
        res.once('drain', () => req.resume())
      }
    })
    req.on('end', () => {
      upstream.arrivals.push(arrival(req, bytes, hash.digest('hex')))
      res.end()
    })
    return
  }
  const chunks: Buffer[] = []
  req.on('data', (chunk: Buffer) => chunks.push(chunk))
  req.on('end', () => {
    const body = Buffer.concat(chunks)
    const seen = arrival(req, body.length, createHash('sha256').update(body).digest('hex'))
    upstream.arrivals.push(seen)
    if (mode.kind === 'custom') return mode.handle(req, res, body)
    const respond = (): void => {
      const status = mode.kind === 'status' ? mode.status : 200
      const payload = JSON.stringify({ upstream: upstream.name, ...seen })
      res.writeHead(status, { 'x-upstream': upstream.name, 'content-type': 'application/json' })
      res.end(payload)
    }
    if (mode.kind === 'delay') setTimeout(respond, mode.ms)
    else respond()
  })
}

function recordLater(upstream: TestUpstream, req: IncomingMessage): void {
  upstream.arrivals.push(arrival(req, 0, ''))
}

function arrival(req: IncomingMessage, bodyBytes: number, bodySha256: string): Arrival {
  return { method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, bodyBytes, bodySha256, httpVersion: req.httpVersion }
}
