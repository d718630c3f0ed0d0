/**
 * @module In-memory affinity store: one process's bindings and live sessions, swept periodically.
 */
import type { AffinityStore, Binding } from './affinity-store.js'

const SWEEP_MS = 1000

interface Session {
  endpointId: string
  expiresAt: number
}

/** Bindings and session counts in Maps; every entry has a TTL, enforced on read and by a sweep. */
export class MemoryAffinityStore implements AffinityStore {
  readonly kind = 'memory'
  readonly #bindings = new Map<string, Binding>()
  readonly #sessions = new Map<string, Map<string, Session>>()
  readonly #counts = new Map<string, Map<string, number>>()
  readonly #sweeper: NodeJS.Timeout
  readonly #now: () => number

  constructor(now: () => number = Date.now) {
    this.#now = now
    this.#sweeper = setInterval(() => this.sweep(), SWEEP_MS)
    this.#sweeper.unref()
  }

  get(key: string): Binding | undefined {
    const binding = this.#bindings.get(key)
    if (binding === undefined) return undefined
    if (binding.expiresAt > this.#now()) return binding
    this.#bindings.delete(key)
    return undefined
  }

  claim(key: string, endpointId: string, ttlMs: number): Binding {
    return this.get(key) ?? this.#put(key, endpointId, ttlMs)
  }

  rebind(key: string, endpointId: string, ttlMs: number, expectedOld: string): Binding {
    const current = this.get(key)
    if (current !== undefined && current.endpointId !== expectedOld) return current
    return this.#put(key, endpointId, ttlMs)
  }

  refresh(key: string, ttlMs: number): void {
    const current = this.get(key)
    if (current !== undefined) this.#put(key, current.endpointId, ttlMs)
  }

  touchSession(scope: string, sessionId: string, endpointId: string, ttlMs: number): void {
    let sessions = this.#sessions.get(scope)
    if (sessions === undefined) this.#sessions.set(scope, (sessions = new Map()))
    const expiresAt = this.#now() + ttlMs
    const session = sessions.get(sessionId)
    if (session === undefined) {
      sessions.set(sessionId, { endpointId, expiresAt })
      this.#count(scope, endpointId, 1)
    } else {
      if (session.endpointId !== endpointId) {
        this.#count(scope, session.endpointId, -1)
        this.#count(scope, endpointId, 1)
        session.endpointId = endpointId
      }
      session.expiresAt = expiresAt
    }
  }

  sessionCounts(scope: string): ReadonlyMap<string, number> {
    return this.#counts.get(scope) ?? EMPTY
  }

  /** Drops expired bindings and sessions (also runs every second on its own). */
  sweep(): void {
    const now = this.#now()
    for (const [key, binding] of this.#bindings) if (binding.expiresAt <= now) this.#bindings.delete(key)
    for (const [scope, sessions] of this.#sessions) {
      for (const [id, session] of sessions) {
        if (session.expiresAt > now) continue
        sessions.delete(id)
        this.#count(scope, session.endpointId, -1)
      }
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
  }

  #put(key: string, endpointId: string, ttlMs: number): Binding {
    const binding = { endpointId, expiresAt: this.#now() + ttlMs }
    this.#bindings.set(key, binding)
    return binding
  }

  #count(scope: string, endpointId: string, delta: number): void {
    let counts = this.#counts.get(scope)
    if (counts === undefined) this.#counts.set(scope, (counts = new Map()))
    const next = (counts.get(endpointId) ?? 0) + delta
    if (next <= 0) counts.delete(endpointId)
    else counts.set(endpointId, next)
  }
}

const EMPTY: ReadonlyMap<string, number> = new Map()
