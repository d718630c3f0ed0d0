/**
 * @module Sends raw bytes over a TCP socket, for malformed-request tests no HTTP client would send.
 */
import { connect } from 'node:net'

/** The raw response text, and whether the server closed the connection. */
export interface RawResult {
  readonly text: string
  readonly status: number | undefined
  readonly closed: boolean
}

/** Writes `bytes`, collects everything until the server closes or `idleMs` passes with no data. */
export function rawRequest(port: number, bytes: string | Buffer, idleMs = 500): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    let timer: NodeJS.Timeout | undefined
    const finish = (closed: boolean): void => {
      if (timer !== undefined) clearTimeout(timer)
      socket.destroy()
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text)
      resolve({ text, status: match === null ? undefined : Number(match[1]), closed })
    }
    const arm = (): void => {
      if (timer !== undefined) clearTimeout(timer)
      timer = setTimeout(() => finish(false), idleMs)
    }
    socket.on('connect', () => {
      socket.write(bytes)
      arm()
    })
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1')
      arm()
    })
    socket.on('end', () => finish(true))
    socket.on('close', () => finish(true))
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' ? finish(true) : reject(error)))
  })
}

/** A raw response split into status, lower-cased headers (repeats joined by ", ") and body text. */
export interface ParsedRawResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
}

/** Parses the first response of a raw text (enough for Latch's own short, complete error responses). */
export function parseRawResponse(text: string): ParsedRawResponse {
  const end = text.indexOf('\r\n\r\n')
  const head = end === -1 ? text : text.slice(0, end)
  const [statusLine = '', ...lines] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body: end === -1 ? '' : text.slice(end + 4) }
}
