/**
 * @module A tiny stateful web app for the docker compose and Kubernetes demos: which backend answered, and a per-session visit counter.
 *
 * The counter lives in this process's memory, keyed by the app's own session cookie (`demo_sid`),
 * exactly like an app that keeps sessions in memory. So stickiness is visible: while Latch keeps a
 * client on one backend the counter climbs; a client sent to another backend starts again at visit 1
 * with a new session id. Answers are one text line for curl, JSON for `Accept: application/json`,
 * and a small page for browsers.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { parseCookie, stringifySetCookie } from 'cookie'

/** Name of the app's own session cookie (not Latch's affinity cookie). */
export const SESSION_COOKIE = 'demo_sid'

/** Sessions kept per backend; the least recently used is forgotten first, so memory stays bounded. */
const MAX_SESSIONS = 10_000

/** Ids this app issues: 12 base64url characters. Anything else is treated as no session. */
const SESSION_ID = /^[A-Za-z0-9_-]{12}$/

/** What one request saw: the backend, the session and its visit count (1 for a new session). */
export interface Visit {
  readonly backend: string
  readonly session: string
  readonly visits: number
  readonly newSession: boolean
}

/** A running session app. */
export interface SessionApp {
  readonly name: string
  /** Origin such as `http://127.0.0.1:8080`. */
  readonly url: string
  readonly port: number
  /** Sessions currently remembered. */
  sessionCount(): number
  close(): Promise<void>
}

/** Options of startSessionApp. */
export interface SessionAppOptions {
  /** Shown on every answer and in the `x-backend` header. */
  readonly name: string
  readonly host?: string
  /** 0 picks a free port. */
  readonly port?: number
}

/** Starts the app on `host:port` (default 127.0.0.1, any free port). */
export async function startSessionApp(options: SessionAppOptions): Promise<SessionApp> {
  const sessions = new Map<string, number>()
  const server = createServer((req, res) => handle(options.name, sessions, req, res))
  const host = options.host ?? '127.0.0.1'
  const port = await listen(server, host, options.port ?? 0)
  const urlHost = host.includes(':') ? `[${host}]` : host
  return {
    name: options.name,
    url: `http://${urlHost}:${port}`,
    port,
    sessionCount: () => sessions.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeIdleConnections()
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

function handle(name: string, sessions: Map<string, number>, req: IncomingMessage, res: ServerResponse): void {
  // The body is not needed; reading it keeps the keep-alive connection usable.
  req.resume()
  res.setHeader('x-backend', name)
  res.setHeader('cache-control', 'no-store')
  const path = (req.url ?? '/').split('?')[0]
  if (path === '/healthz') {
    res.setHeader('content-type', 'text/plain; charset=utf-8')
    res.end('ok\n')
    return
  }
  if (path === '/favicon.ico') {
    // Browsers ask for it on every page; counting it would make each reload look like two visits.
    res.statusCode = 404
    res.end()
    return
  }
  const visit = recordVisit(name, sessions, req.headers.cookie)
  if (visit.newSession) res.setHeader('set-cookie', stringifySetCookie(SESSION_COOKIE, visit.session, { path: '/', httpOnly: true, sameSite: 'lax' }))
  res.setHeader('x-session-visits', String(visit.visits))
  const accept = req.headers.accept ?? ''
  if (/\bapplication\/json\b/.test(accept)) {
    res.setHeader('content-type', 'application/json; charset=utf-8')
    res.end(`${JSON.stringify(visit)}\n`)
  } else if (/\btext\/html\b/.test(accept)) {
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.end(page(visit))
  } else {
    res.setHeader('content-type', 'text/plain; charset=utf-8')
    res.end(`${visit.backend}  session=${visit.session}  visits=${visit.visits}${visit.newSession ? '  (new session)' : ''}\n`)
  }
}

/** Counts a visit of the request's session, or starts a new session when this backend does not know it. */
function recordVisit(name: string, sessions: Map<string, number>, cookieHeader: string | undefined): Visit {
  const sent = cookieHeader === undefined ? undefined : parseCookie(cookieHeader)[SESSION_COOKIE]
  const known = sent !== undefined && SESSION_ID.test(sent) ? sessions.get(sent) : undefined
  const session = known === undefined ? randomBytes(9).toString('base64url') : (sent as string)
  const visits = (known ?? 0) + 1
  // Delete and re-insert: Map keeps insertion order, so the first key is the least recently used.
  sessions.delete(session)
  sessions.set(session, visits)
  if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value as string)
  return { backend: name, session, visits, newSession: known === undefined }
}

function page(visit: Visit): string {
  const backend = escapeHtml(visit.backend)
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Latch session demo: ${backend}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}code{background:#eee;padding:0 .25rem}.n{font-size:3rem;font-weight:700}</style>
</head><body>
<h1>Served by ${backend}</h1>
<p>Session <code>${visit.session}</code>${visit.newSession ? ' (new: this backend did not know your session)' : ''}</p>
<p class="n">visit ${visit.visits}</p>
<p>The counter lives in ${backend}'s memory. Reload: while Latch keeps you on ${backend}, it climbs.
If you are moved to another backend, it starts again at 1 with a new session.</p>
</body></html>
`
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
