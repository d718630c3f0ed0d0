/**
 * @module A TCP "upstream" that answers every request head with scripted bytes, for responses no
 * HTTP server library would send (garbage, invalid headers, truncated bodies); plus a refused address.
 */
import { createServer, type AddressInfo, type Socket } from 'node:net'

/** A running raw upstream; `arrivals` holds each request head it received. */
export interface RawUpstream {
  readonly url: string
  readonly arrivals: string[]
  stop(): Promise<void>
}

/** What to answer with: bytes (then close, unless `keepOpen`), or a function that drives the socket. */
export type RawReply = string | Buffer | ((socket: Socket, head: string) => void)

/** Starts a server that replies `reply` once a full request head (up to CRLFCRLF) arrived. */
export async function startRawUpstream(reply: RawReply): Promise<RawUpstream> {
  const arrivals: string[] = []
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let text = ''
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      if (end === -1) return
      const head = text.slice(0, end)
      text = text.slice(end + 4)
      arrivals.push(head)
      if (typeof reply === 'function') reply(socket, head)
      else socket.end(reply)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    arrivals,
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/** A URL on which nothing listens (a port just bound and released): connecting is refused. */
export async function refusedUrl(): Promise<string> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return `http://127.0.0.1:${port}`
}
