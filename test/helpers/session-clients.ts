/**
 * @module Simulated session clients for affinity integration tests: each keeps what Latch (or the
 * application) gave it — the affinity cookie, the header token, the app's session cookie — and sends
 * it back, like a browser or an SDK would. Many clients share one keep-alive agent with bounded
 * concurrency, so 20,000 requests through the real CLI take seconds.
 */
import { Agent, request } from 'undici'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { UpstreamMode } from './upstream.js'

export type SessionMode = 'cookie' | 'header' | 'client-ip' | 'hash' | 'learn'

/** One request's result, as the client saw it. */
export interface Visit {
  readonly status: number
  /** `x-upstream` of the upstream that answered; undefined for Latch's own error responses. */
  readonly upstream: string | undefined
  /** `X-Latch-Affinity` (pools with `responseHeader: true`). */
  readonly affinity: string | undefined
  /** The affinity cookie or token this response set, if any. */
  readonly newBinding: string | undefined
  readonly retryAfter: string | undefined
  readonly code: string | undefined
}

/** One simulated client. */
export class SessionClient {
  readonly index: number
  readonly mode: SessionMode
  /** What it sends back: `latch=…`, the token, or the app session id. */
  binding: string | undefined
  /** The affinity cookie's name (cookie mode). */
  cookieName = 'latch'
  readonly visits: Visit[] = []

  constructor(index: number, mode: SessionMode) {
    this.index = index
    this.mode = mode
  }

  /** A distinct client address for client-ip and hash modes (sent as trusted X-Forwarded-For). */
  get ip(): string {
    return `10.${Math.floor(this.index / 250) % 250}.${this.index % 250}.${1 + Math.floor(this.index / 62_500)}`
  }

  /** Upstreams that answered, in order (Latch's own errors left out). */
  get upstreams(): string[] {
    return this.visits.flatMap((visit) => (visit.upstream === undefined ? [] : [visit.upstream]))
  }

  /** Sends one GET and remembers any new binding. */
  async visit(url: string, agent: Agent, path = '/app'): Promise<Visit> {
    const headers: Record<string, string> = {}
    if (this.mode === 'client-ip' || this.mode === 'hash') headers['x-forwarded-for'] = this.ip
    if (this.binding !== undefined) {
      if (this.mode === 'cookie') headers.cookie = this.binding
      else if (this.mode === 'header') headers['x-latch-session'] = this.binding
      else if (this.mode === 'learn') headers.cookie = `connect.sid=${this.binding}`
    }
    const response = await request(`${url}${path}`, { dispatcher: agent, headers })
    await response.body.dump()
    const single = (name: string): string | undefined => {
      const value = response.headers[name]
      return typeof value === 'string' ? value : undefined
    }
    let newBinding: string | undefined
    if (this.mode === 'cookie') {
      const setCookie = response.headers['set-cookie']
      const all = setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]
      newBinding = all.map((line) => line.split(';', 1)[0] as string).find((pair) => pair.startsWith(`${this.cookieName}=`))
    } else if (this.mode === 'header') {
      newBinding = single('x-latch-session')
    } else if (this.mode === 'learn') {
      newBinding = single('x-app-session')
    }
    if (newBinding !== undefined) this.binding = newBinding
    const visit: Visit = { status: response.statusCode, upstream: single('x-upstream'), affinity: single('x-latch-affinity'), newBinding, retryAfter: single('retry-after'), code: single('x-latch-error') }
    this.visits.push(visit)
    return visit
  }
}

/** Makes `count` clients of one mode. */
export function sessionClients(count: number, mode: SessionMode, firstIndex = 0): SessionClient[] {
  return Array.from({ length: count }, (_, index) => new SessionClient(firstIndex + index, mode))
}

/**
 * Runs `requests` visits for every client, `concurrency` clients at a time; each client's visits
 * are sequential (a session is one user). Resolves when all are done.
 */
export async function runClients(clients: readonly SessionClient[], url: string, options: { requests: number; concurrency?: number; agent: Agent; path?: string }): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < clients.length) {
      const client = clients[next++] as SessionClient
      for (let i = 0; i < options.requests; i++) await client.visit(url, options.agent, options.path)
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 32 }, worker))
}

/** A keep-alive agent sized for `runClients`. */
export function clientAgent(connections = 32): Agent {
  return new Agent({ connections, pipelining: 1, keepAliveTimeout: 30_000 })
}

/**
 * An upstream mode for `learn` tests (connect.sid, as Express sets it): a request without the app's
 * session cookie gets a new one in Set-Cookie; the id is also echoed in `x-app-session` so the
 * simulated client can keep it without a cookie jar. Every response names the upstream.
 */
export function appSessionMode(name: string): UpstreamMode {
  let counter = 0
  return {
    kind: 'custom',
    handle(req: IncomingMessage, res: ServerResponse) {
      const cookie = req.headers.cookie ?? ''
      const match = /(?:^|;\s*)connect\.sid=([^;]+)/.exec(cookie)
      const headers: Record<string, string | string[]> = { 'x-upstream': name, 'content-type': 'text/plain' }
      if (match === null) {
        const id = `s%3A${name}-${++counter}`
        headers['set-cookie'] = [`connect.sid=${id}; Path=/; HttpOnly`]
        headers['x-app-session'] = id
      }
      res.writeHead(200, headers)
      res.end('ok')
    },
  }
}

/** Distinct values, in first-seen order. */
export function distinct<T>(values: readonly T[]): T[] {
  return [...new Set(values)]
}

/** The largest relative deviation of `counts` from their mean (0.1 = 10 %). */
export function maxDeviation(counts: readonly number[]): number {
  const mean = counts.reduce((sum, count) => sum + count, 0) / counts.length
  return Math.max(...counts.map((count) => Math.abs(count - mean) / mean))
}
