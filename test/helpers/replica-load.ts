/**
 * @module Steady request load at a fixed rate over several Latch replicas, for the Redis fault tests.
 *
 * Each client (a client-ip client by X-Forwarded-For, or a cookie client with its cookie jar) sends
 * its requests to the replicas in turn, so consecutive requests of one client land on different
 * replicas, as behind a cloud load balancer. Every answer is recorded with its latency.
 */
import { Agent, request } from 'undici'
import type { LatchProcess } from './latch-process.js'

/** One load client. */
export interface LoadClient {
  readonly name: string
  readonly path: string
  readonly ip: string
  /** Cookies to send, updated from Set-Cookie. */
  readonly jar: Map<string, string>
  sent: number
}

/** One answer. */
export interface LoadAnswer {
  readonly client: string
  readonly sentAt: number
  readonly latencyMs: number
  readonly status: number
  readonly upstream: string | undefined
  readonly error: string | undefined
}

/** A running load. */
export interface Load {
  readonly answers: LoadAnswer[]
  /** Adds clients (e.g. new clients that first appear during an outage). */
  add(clients: readonly LoadClient[]): void
  stop(): Promise<void>
}

export function client(name: string, path: string, ip: string): LoadClient {
  return { name, path, ip, jar: new Map(), sent: 0 }
}

/** Sends `perSecond` requests per second in total, spread over `clients`, until stopped. */
export function startLoad(replicas: readonly LatchProcess[], clients: readonly LoadClient[], perSecond: number): Load {
  const agents = replicas.map(() => new Agent({ connections: 64, keepAliveTimeout: 10_000 }))
  const answers: LoadAnswer[] = []
  const all = [...clients]
  const inflight = new Set<Promise<void>>()
  let next = 0
  const startedAt = performance.now()
  let fired = 0
  const fire = (one: LoadClient): void => {
    const index = one.sent++ % replicas.length
    const replica = replicas[index] as LatchProcess
    const sentAt = Date.now()
    const started = performance.now()
    const done = request(`${replica.url}${one.path}`, { dispatcher: agents[index] as Agent, headers: { 'x-forwarded-for': one.ip, ...(one.jar.size === 0 ? {} : { cookie: [...one.jar].map(([name, value]) => `${name}=${value}`).join('; ') }) } })
      .then(async (response) => {
        await response.body.dump()
        const setCookie = response.headers['set-cookie']
        for (const line of setCookie === undefined ? [] : Array.isArray(setCookie) ? setCookie : [setCookie]) {
          const pair = line.split(';')[0] as string
          one.jar.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1))
        }
        const upstream = response.headers['x-upstream']
        answers.push({ client: one.name, sentAt, latencyMs: performance.now() - started, status: response.statusCode, upstream: typeof upstream === 'string' ? upstream : undefined, error: undefined })
      })
      .catch((error: unknown) => {
        answers.push({ client: one.name, sentAt, latencyMs: performance.now() - started, status: 0, upstream: undefined, error: (error as Error).message })
      })
      .finally(() => inflight.delete(done))
    inflight.add(done)
  }
  const timer = setInterval(() => {
    // Paced by elapsed time, not by ticks: timers drift late under load.
    const due = Math.floor(((performance.now() - startedAt) / 1000) * perSecond)
    for (; fired < due; fired++) fire(all[next++ % all.length] as LoadClient)
  }, 10)
  return {
    answers,
    add: (more) => all.push(...more),
    async stop() {
      clearInterval(timer)
      await Promise.all([...inflight])
      await Promise.all(agents.map((agent) => agent.close()))
    },
  }
}

/** The p-th percentile (0–100) of `values`. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number
}

/** Upstreams each client was answered by (in order of first appearance). */
export function upstreamsByClient(answers: readonly LoadAnswer[], filter: (answer: LoadAnswer) => boolean = () => true): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const answer of answers) {
    if (!filter(answer) || answer.upstream === undefined) continue
    const seen = out.get(answer.client) ?? []
    if (!seen.includes(answer.upstream)) seen.push(answer.upstream)
    out.set(answer.client, seen)
  }
  return out
}
