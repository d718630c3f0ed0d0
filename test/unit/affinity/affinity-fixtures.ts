/**
 * @module Unit fixtures for affinity: real pools with real affinity objects (wired as the runtime
 * wires them), requests built on a real IncomingMessage, and `serve`, which takes the real session
 * step (proxying/session-step.ts) without the network, so properties can be checked over many
 * thousands of sessions in milliseconds.
 */
import { IncomingMessage } from 'node:http'
import { Socket } from 'node:net'
import { whenReady, type MaybePromise } from '../../../src/stores/affinity-store.js'
import { SecretRing } from '../../../src/affinity/secret-ring.js'
import type { AffinityOutcome, SessionAffinity } from '../../../src/affinity/session-affinity.js'
import { ProxyError } from '../../../src/errors/proxy-error.js'
import { poolTarget, type PoolTarget } from '../../../src/proxying/pool-target.js'
import { commitSession, resolveSession, type SessionRequest } from '../../../src/proxying/session-step.js'
import type { ConfigInput } from '../../../src/config/schema.js'
import { MemoryAffinityStore } from '../../../src/stores/memory-store.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { poolConfig, RecordingObserver } from '../upstream/pool-fixtures.js'

export const SECRET = 'unit-test-secret-0123456789abcdef'

type PoolInput = Omit<ConfigInput['pools'][number], 'name'> & { name?: string }

/** `count` endpoint URLs on closed ports (undici pools are created but never connect). */
export function endpointUrls(count: number, firstPort = 10_001): string[] {
  return Array.from({ length: count }, (_, index) => `http://127.0.0.1:${firstPort + index}`)
}

/** A pool with affinity (its own memory store and secret ring unless given), closed by `closeAll`. */
export function affinityPool(pool: PoolInput, deps: { ring?: SecretRing; store?: MemoryAffinityStore } = {}): { pool: UpstreamPool; store: MemoryAffinityStore; ring: SecretRing } {
  const store = deps.store ?? new MemoryAffinityStore()
  const ring = deps.ring ?? new SecretRing([SECRET])
  const created = new UpstreamPool(poolConfig(pool), new RecordingObserver(), {})
  targets.set(created, poolTarget(created, { ring, store }))
  opened.push(created)
  stores.push(store)
  return { pool: created, store, ring }
}

/** The target (pool and affinity) `affinityPool` built for `pool`, as the runtime would. */
export function targetOf(pool: UpstreamPool): PoolTarget {
  const target = targets.get(pool)
  if (target === undefined) throw new Error(`pool ${pool.name} was not made by affinityPool`)
  return target
}

/** The affinity of a pool made by `affinityPool` (undefined for mode `none`). */
export function affinityOf(pool: UpstreamPool): SessionAffinity | undefined {
  return targetOf(pool).affinity
}

const targets = new WeakMap<UpstreamPool, PoolTarget>()
const opened: UpstreamPool[] = []
const stores: MemoryAffinityStore[] = []

/** Closes every pool and store made by `affinityPool` (call in afterEach). */
export async function closeAll(): Promise<void> {
  await Promise.all(opened.splice(0).map((pool) => pool.close()))
  await Promise.all(stores.splice(0).map((store) => store.close()))
}

/** What a simulated client sends. */
export interface ClientRequest {
  readonly clientIp?: string
  readonly cookie?: string
  /** Extra raw headers, name → value. */
  readonly headers?: Readonly<Record<string, string>>
  readonly target?: string
}

/** A session request on a real (unconnected) IncomingMessage. */
export function affinityRequest(client: ClientRequest): SessionRequest & { upstreamCookie: string | undefined } {
  const req = new IncomingMessage(new Socket())
  const raw: string[] = []
  if (client.cookie !== undefined) raw.push('Cookie', client.cookie)
  for (const [name, value] of Object.entries(client.headers ?? {})) raw.push(name, value)
  req.rawHeaders = raw
  const target = client.target ?? '/'
  const query = target.indexOf('?')
  const request: SessionRequest & { upstreamCookie: string | undefined } = {
    session: undefined,
    affinityOutcome: undefined,
    req,
    clientIp: client.clientIp ?? '127.0.0.1',
    cookieHeader: client.cookie,
    secure: false,
    target,
    logPath: query === -1 ? target : target.slice(0, query),
    upstreamCookie: client.cookie,
    setUpstreamCookie(value: string | undefined): void {
      request.upstreamCookie = value
    },
  }
  return request
}

/** What one simulated request did. */
export interface Served {
  /** The endpoint that served it, or undefined when refused (`onUnavailable: fail`, or no endpoint). */
  readonly endpoint: Endpoint | undefined
  readonly outcome: AffinityOutcome | undefined
  /** Response headers the affinity added (name, value, …). */
  readonly headers: readonly string[]
  /** `fail` pools: the session's endpoint is unavailable (the proxy answers 503). */
  readonly refused: boolean
}

/**
 * Serves one request through the real session step (resolveSession, then commitSession as the
 * response goes out), with the endpoint answering at once. `inflight` is left at 0.
 */
export function serve(pool: UpstreamPool, client: ClientRequest): MaybePromise<Served> {
  const target = targetOf(pool)
  if (target.affinity === undefined) throw new Error(`pool ${pool.name} has no affinity`)
  const request = affinityRequest(client)
  const pick = (): Endpoint | ProxyError => {
    const picked = pool.pick(undefined)
    return picked === undefined || picked === 'full' ? new ProxyError('ERR_NO_ENDPOINT', `no available endpoint in pool "${pool.name}"`) : picked
  }
  return whenReady(resolveSession(target, request, pick), (chosen): Served => {
    if (chosen instanceof ProxyError) return { endpoint: undefined, outcome: request.affinityOutcome, headers: [], refused: chosen.code === 'ERR_SESSION_UNAVAILABLE' }
    const headers: string[] = []
    commitSession(target, request, chosen, headers)
    return { endpoint: chosen, outcome: request.affinityOutcome, headers, refused: false }
  })
}

/** `serve`, for stores that answer synchronously (memory). */
export function serveNow(pool: UpstreamPool, client: ClientRequest): Served {
  const served = serve(pool, client)
  if (served instanceof Promise) throw new Error('the memory store answers synchronously')
  return served
}

/** The `name=value` of a Set-Cookie header among `headers`, if any. */
export function setCookieOf(headers: readonly string[], name = 'latch'): string | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'set-cookie' && (headers[i + 1] as string).startsWith(`${name}=`)) return (headers[i + 1] as string).split(';', 1)[0]
  }
  return undefined
}

/** The value of response header `name` among `headers`, if any. */
export function headerOf(headers: readonly string[], name: string): string | undefined {
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === name) return headers[i + 1]
  return undefined
}

/** The largest relative deviation of `counts` from their mean (0.1 = 10 %). */
export function maxDeviation(counts: readonly number[]): number {
  const mean = counts.reduce((sum, count) => sum + count, 0) / counts.length
  return Math.max(...counts.map((count) => Math.abs(count - mean) / mean))
}
