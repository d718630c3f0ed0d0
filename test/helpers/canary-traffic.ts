/**
 * @module Traffic for weighted-split and canary integration tests: counts which upstream answers
 * many requests, and drives cookie clients whose every visit must stay on the backend it started on.
 */
import { Agent, request } from 'undici'
import { waitFor } from './wait.js'
import type { LatchProcess } from './latch-process.js'
import { SessionClient, runClients } from './session-clients.js'

/** Sends `count` GETs (no cookies kept: each is a new client), `concurrency` at a time; upstream name → answers. */
export async function tallyUpstreams(url: string, path: string, count: number, options: { headers?: Record<string, string>; concurrency?: number; agent?: Agent } = {}): Promise<Record<string, number>> {
  const agent = options.agent ?? new Agent({ connections: 16, keepAliveTimeout: 10_000 })
  const counts: Record<string, number> = {}
  let sent = 0
  const worker = async (): Promise<void> => {
    while (sent < count) {
      sent++
      const response = await request(`${url}${path}`, { dispatcher: agent, headers: options.headers ?? {} })
      await response.body.dump()
      const upstream = String(response.headers['x-upstream'] ?? `status ${response.statusCode}`)
      counts[upstream] = (counts[upstream] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker))
  if (options.agent === undefined) await agent.close()
  return counts
}

/** Share (0–100) of `counts` whose upstream name starts with `prefix`. */
export function sharePercent(counts: Record<string, number>, prefix: string): number {
  let total = 0
  let matching = 0
  for (const [name, count] of Object.entries(counts)) {
    total += count
    if (name.startsWith(prefix)) matching += count
  }
  return (100 * matching) / total
}

/** Cookie clients (cookie `cookieName`) that each make `requests` visits to `path`. */
export async function cookieClients(url: string, path: string, count: number, cookieName: string, agent: Agent, firstIndex = 0): Promise<SessionClient[]> {
  const clients = Array.from({ length: count }, (_, i) => {
    const client = new SessionClient(firstIndex + i, 'cookie')
    client.cookieName = cookieName
    return client
  })
  await runClients(clients, url, { requests: 1, agent, path })
  return clients
}

/** The clients whose visits did not all reach the same upstream (a session that changed backend). */
export function movedClients(clients: readonly SessionClient[]): SessionClient[] {
  return clients.filter((client) => new Set(client.upstreams).size !== 1)
}

/** Reloads `latch` by SIGHUP after its config or manifest was rewritten; resolves once it reports the reload. */
export async function reloadBySignal(latch: LatchProcess): Promise<void> {
  const before = latch.logs.filter((line) => line.msg === 'config reloaded').length
  latch.child.kill('SIGHUP')
  await waitFor(() => latch.logs.filter((line) => line.msg === 'config reloaded').length > before, 10_000, 20, 'SIGHUP reload')
}

/** HTTPRoute manifest with one rule: `backends` pool → weight, optional sessionPersistence. */
export function splitRoute(name: string, path: string, backends: Record<string, number>, sessionPersistence?: Record<string, unknown>): object {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: 'default' },
    spec: {
      rules: [{
        matches: [{ path: { type: 'PathPrefix', value: path } }],
        backendRefs: Object.entries(backends).map(([pool, weight]) => ({ name: pool, port: 80, weight })),
        ...(sessionPersistence === undefined ? {} : { sessionPersistence }),
      }],
    },
  }
}

/**
 * Visits of many clients spread over several replicas: client i's visit r goes to replica (i + r) mod
 * n, so every live session crosses replicas. Resolves when every client made one visit.
 */
export async function visitAcross(clients: readonly SessionClient[], urls: readonly string[], round: number, agent: Agent, path: string, concurrency = 32): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < clients.length) {
      const client = clients[next++] as SessionClient
      await client.visit(urls[(client.index + round) % urls.length] as string, agent, path)
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

/** Share (0–100) of `clients` whose first visit reached an upstream named `prefix…`. */
export function firstShare(clients: readonly SessionClient[], prefix: string): number {
  return (100 * clients.filter((client) => client.upstreams[0]?.startsWith(prefix)).length) / clients.length
}
