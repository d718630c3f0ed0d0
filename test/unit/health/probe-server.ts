/**
 * @module A tiny real HTTP server for health-check tests: answers each probe as told and records it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** How the server treats the next probe. */
export type ProbeAnswer = { status: number; body?: string } | 'hang' | 'reset'

/** One probe as the server saw it. */
export interface SeenProbe {
  readonly at: number
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  /** True once the probe's connection closed (answered, reset or cancelled by the checker). */
  closed: boolean
}

/** A running probe server. */
export interface ProbeServer {
  readonly url: string
  readonly port: number
  readonly probes: SeenProbe[]
  /** Decides the answer to each probe; may be replaced at any time. */
  answer: (index: number) => ProbeAnswer
  close(): Promise<void>
}

/** Starts a server on 127.0.0.1:0 answering 200 "ok" until told otherwise. */
export async function startProbeServer(): Promise<ProbeServer> {
  const sockets = new Set<Socket>()
  const probes: SeenProbe[] = []
  const server: Server = createServer((req, res) => {
    const seen: SeenProbe = { at: Date.now(), method: req.method ?? '', url: req.url ?? '', headers: req.headers, closed: false }
    probes.push(seen)
    req.socket.once('close', () => (seen.closed = true))
    const answer = probe.answer(probes.length - 1)
    if (answer === 'hang') return
    if (answer === 'reset') return void req.socket.destroy()
    res.writeHead(answer.status, { 'content-type': 'text/plain' })
    res.end(answer.body ?? 'ok')
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const probe: ProbeServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    probes,
    answer: () => ({ status: 200 }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
  return probe
}
