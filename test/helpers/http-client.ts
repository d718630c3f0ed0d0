/**
 * @module A plain node:http client for tests: sends the path exactly as given (no URL normalisation,
 * unlike fetch or URL objects) on a fresh connection, and collects the whole response.
 */
import { request, type IncomingHttpHeaders } from 'node:http'

/** A complete response. `json` is the parsed body when it was JSON. */
export interface SimpleResponse {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly rawHeaders: readonly string[]
  readonly trailers: NodeJS.Dict<string>
  readonly body: string
  readonly json: Record<string, unknown> | undefined
}

/** Options of one request; `headers` may be a flat raw list to control order and repeats. */
export interface SimpleRequest {
  readonly port: number
  readonly path: string
  readonly method?: string
  readonly headers?: Record<string, string | string[]> | string[]
  readonly body?: string | Buffer
  /** Source address of the connection (any 127.x.y.z works on Linux), to be a trusted or untrusted peer. */
  readonly localAddress?: string
}

/** Sends one request on a new connection and resolves with the complete response. */
export function send(options: SimpleRequest): Promise<SimpleResponse> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: options.port, path: options.path, method: options.method ?? 'GET', headers: options.headers, agent: false, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8')
        let json: Record<string, unknown> | undefined
        // A HEAD answer carries the type but no body.
        if ((res.headers['content-type'] ?? '').includes('json') && body !== '') json = JSON.parse(body) as Record<string, unknown>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, trailers: res.trailers, body, json })
      })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}
