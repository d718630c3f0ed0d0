/**
 * @module A raw TCP upstream that parses what a proxy forwards with its own strict reader and records
 * every request head, flagging any framing a second parser could read differently (request smuggling):
 * two Content-Length headers, Content-Length with Transfer-Encoding, a Transfer-Encoding other than
 * `chunked`, a folded or bare-LF header line. It answers each complete request with 200 `ok`; after a
 * flagged head it closes the connection (it could not know where the next request starts).
 */
import { createServer, type AddressInfo, type Socket } from 'node:net'

/** One request head that reached the upstream. */
export interface RecordedHead {
  readonly target: string
  readonly head: string
  /** Why the framing is ambiguous; empty when it is not. */
  readonly problems: readonly string[]
}

export interface RecordingUpstream {
  readonly url: string
  readonly heads: RecordedHead[]
  stop(): Promise<void>
}

interface Framing {
  readonly kind: 'none' | 'length' | 'chunked'
  readonly length: number
}

/** Parses one head; returns its record and framing. */
function readHead(head: string): { record: RecordedHead; framing: Framing } {
  const problems: string[] = []
  if (/(^|[^\r])\n/.test(head)) problems.push('bare LF in the head')
  const [requestLine = '', ...lines] = head.split('\r\n')
  const target = requestLine.split(' ')[1] ?? ''
  const lengths: string[] = []
  const encodings: string[] = []
  for (const line of lines) {
    if (/^[ \t]/.test(line)) problems.push(`folded header line ${JSON.stringify(line)}`)
    const colon = line.indexOf(':')
    if (colon <= 0 || /[\s]/.test(line.slice(0, colon))) problems.push(`malformed header line ${JSON.stringify(line)}`)
    const name = line.slice(0, colon).toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === 'content-length') lengths.push(value)
    if (name === 'transfer-encoding') encodings.push(value)
  }
  if (lengths.length > 1) problems.push(`${lengths.length} Content-Length headers`)
  if (lengths.some((value) => !/^\d+$/.test(value))) problems.push(`Content-Length ${JSON.stringify(lengths)}`)
  if (encodings.length > 1) problems.push(`${encodings.length} Transfer-Encoding headers`)
  if (encodings.length > 0 && lengths.length > 0) problems.push('Content-Length with Transfer-Encoding')
  if (encodings.some((value) => value.toLowerCase() !== 'chunked')) problems.push(`Transfer-Encoding ${JSON.stringify(encodings)}`)
  const framing: Framing = encodings.length > 0 ? { kind: 'chunked', length: 0 } : lengths.length > 0 ? { kind: 'length', length: Number(lengths[0]) } : { kind: 'none', length: 0 }
  return { record: { target, head, problems }, framing }
}

/** Bytes of a complete chunked body at the start of `text`, undefined while incomplete, -1 when malformed. */
function chunkedLength(text: string): number | undefined {
  let at = 0
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at)
    if (lineEnd === -1) return undefined
    const sizeText = text.slice(at, lineEnd).split(';')[0] as string
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return -1
    const size = parseInt(sizeText, 16)
    at = lineEnd + 2
    if (size === 0) {
      // Trailers, then an empty line.
      for (;;) {
        const end = text.indexOf('\r\n', at)
        if (end === -1) return undefined
        if (end === at) return end + 2
        at = end + 2
      }
    }
    if (text.length < at + size + 2) return undefined
    if (text.slice(at + size, at + size + 2) !== '\r\n') return -1
    at += size + 2
  }
}

/** Starts the recording upstream on an ephemeral 127.0.0.1 port. */
export async function startRecordingUpstream(): Promise<RecordingUpstream> {
  const heads: RecordedHead[] = []
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    let buffer = ''
    let pending: Framing | undefined
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('latin1')
      for (;;) {
        if (pending === undefined) {
          const end = buffer.indexOf('\r\n\r\n')
          if (end === -1) return
          const { record, framing } = readHead(buffer.slice(0, end))
          heads.push(record)
          buffer = buffer.slice(end + 4)
          if (record.problems.length > 0) {
            socket.destroy()
            return
          }
          pending = framing
        }
        const bodyLength = pending.kind === 'chunked' ? chunkedLength(buffer) : pending.kind === 'length' ? (buffer.length >= pending.length ? pending.length : undefined) : 0
        if (bodyLength === undefined) return
        if (bodyLength === -1) {
          heads.push({ target: '(body)', head: buffer.slice(0, 200), problems: ['malformed chunked body'] })
          socket.destroy()
          return
        }
        buffer = buffer.slice(bodyLength)
        pending = undefined
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    heads,
    stop: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}
