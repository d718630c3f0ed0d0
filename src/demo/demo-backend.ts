/**
 * @module A tiny named backend for `npm run demo`: every answer says which backend gave it.
 *
 * It answers JSON (`{ backend, method, path, ... }`) and an `x-backend` header, or a small HTML page
 * when the client asks for HTML (a browser), so a reload shows the next backend of the pool.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A running demo backend. */
export interface DemoBackend {
  readonly name: string
  /** Origin such as `http://127.0.0.1:3001`, as put in the demo config. */
  readonly url: string
  readonly port: number
  /** The port that was asked for, when it was busy and a free one was taken instead. */
  readonly busyPort: number | undefined
  close(): Promise<void>
}

/** Starts a backend on `host:preferredPort`, or on a free port when that one is taken. */
export async function startDemoBackend(name: string, preferredPort: number, host = '127.0.0.1'): Promise<DemoBackend> {
  const server = createServer((req, res) => answer(name, req, res))
  let port: number
  let busyPort: number | undefined
  try {
    port = await listen(server, host, preferredPort)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    busyPort = preferredPort
    port = await listen(server, host, 0)
  }
  return {
    name,
    url: `http://${host}:${port}`,
    port,
    busyPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

function answer(name: string, req: IncomingMessage, res: ServerResponse): void {
  // The body is not needed; reading it keeps the keep-alive connection usable.
  req.resume()
  res.setHeader('x-backend', name)
  res.setHeader('cache-control', 'no-store')
  if (/\btext\/html\b/.test(req.headers.accept ?? '')) {
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.end(page(name, req))
    return
  }
  const seen = {
    backend: name,
    method: req.method,
    path: req.url,
    host: req.headers.host,
    requestId: req.headers['x-request-id'],
    forwardedFor: req.headers['x-forwarded-for'],
    via: req.headers.via,
  }
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.end(`${JSON.stringify(seen)}\n`)
}

function page(name: string, req: IncomingMessage): string {
  const path = escapeHtml(req.url ?? '/')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latch demo: ${name}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#eee;padding:0 .25rem}</style>
</head><body>
<h1>Served by ${name}</h1>
<p>Latch forwarded <code>${escapeHtml(req.method ?? 'GET')} ${path}</code> to the backend <strong>${name}</strong>.</p>
<p>Under <code>/</code> the pool balances round-robin: reload and the next backend answers.
Under <code>/first</code> demo-1 always answers (a longer Ingress <code>Prefix</code> rule).
Under <a href="/sticky/"><code>/sticky</code></a> a signed cookie keeps you on one backend.</p>
</body></html>
`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
