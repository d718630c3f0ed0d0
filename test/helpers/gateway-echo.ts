/**
 * @module An upstream that behaves like the Gateway API conformance suite's echo backend, on top of
 * startUpstream's `custom` mode: it answers JSON naming itself with the request's path, Host and
 * headers, and obeys what the conformance tests ask of it:
 * - `X-Echo-Set-Header: Name:value,Other:value` — response headers to set (ResponseHeaderModifier tests);
 * - `?delay=1s` / `?delay=300ms` — wait before answering (timeout tests);
 * - `?responseCode=N&succeedAfter=K&id=X` — answer N to the first K requests of id X, then 200; without
 *   `responseCode`, close the connection instead of answering (retry tests); `&delayRetry=300ms` delays
 *   those failing answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { startUpstream, type TestUpstream } from './upstream.js'

/** What the echo backend answers (its JSON body). */
export interface EchoedRequest {
  readonly backend: string
  readonly path: string
  readonly host: string
  readonly method: string
  readonly headers: Record<string, string>
}

export async function startGatewayEcho(name: string): Promise<TestUpstream> {
  const upstream = await startUpstream(name)
  const failures = new Map<string, number>()
  upstream.mode = {
    kind: 'custom',
    handle(req: IncomingMessage, res: ServerResponse) {
      const url = new URL(req.url ?? '/', 'http://backend')
      const succeedAfter = Number(url.searchParams.get('succeedAfter') ?? 0)
      const id = url.searchParams.get('id') ?? ''
      const failed = failures.get(id) ?? 0
      if (failed < succeedAfter) {
        failures.set(id, failed + 1)
        const code = url.searchParams.get('responseCode')
        if (code === null) return void req.socket.destroy()
        return void setTimeout(() => {
          if (res.destroyed) return
          res.writeHead(Number(code), { 'content-type': 'text/plain' })
          res.end('simulated failure')
        }, delayMs(url.searchParams.get('delayRetry')))
      }
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-upstream': name }
      for (const pair of String(req.headers['x-echo-set-header'] ?? '').split(',')) {
        const colon = pair.indexOf(':')
        if (colon > 0) headers[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim()
      }
      const echoed: EchoedRequest = { backend: name, path: req.url ?? '', host: req.headers.host ?? '', method: req.method ?? '', headers: flatten(req.headers) }
      setTimeout(() => {
        res.writeHead(200, headers)
        res.end(JSON.stringify(echoed))
      }, delayMs(url.searchParams.get('delay')))
    },
  }
  return upstream
}

function delayMs(delay: string | null): number {
  if (delay === null) return 0
  const match = /^(\d+)(ms|s)$/.exec(delay)
  return match === null ? 0 : Number(match[1]) * (match[2] === 's' ? 1000 : 1)
}

function flatten(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = Array.isArray(value) ? value.join(',') : value
  return out
}
