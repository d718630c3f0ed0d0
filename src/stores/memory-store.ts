/**
 * @module In-memory affinity store: one process's bindings and live sessions, swept periodically.
 *
 * Bounded, like HAProxy's stick tables and nginx's sticky zones: clients without a cookie jar (curl,
 * monitors, API clients) start a new session on every request, and many client addresses each bind,
 * so without a bound a burst of either grows memory until the process dies. When full, the least
 * recently used entry goes: Maps keep insertion order and a used entry moves to the back (a binding
 * when it is set or refreshed, a session at most once per MOVE_AFTER_MS, so a hit rarely pays for a
 * delete and re-insert), so the front holds the entries idle longest. `onEvict` hears of each one.
 */
import { DEFAULT_MAX_ENTRIES } from '../config/store-schema.js'
import type { AffinityStore, Binding } from './affinity-store.js'

const SWEEP_MS = 1000
/** A session seen again moves to the back of its Map at most this often (the LRU order's resolution). */
const MOVE_AFTER_MS = 10_000

interface Session {
  endpointId: string
  expiresAt: number
  /** When the entry last moved to the back of its Map. */
  movedAt: number
}

/** What was dropped to make room: a binding, or a live session. */
export type EvictedKind = 'binding' | 'session'

export interface MemoryStoreOptions {
  /** Most bindings (all pools together), and most live sessions per pool and mode, kept at once. */
  readonly maxEntries?: number
  /** Called for each entry dropped to make room. */
  readonly onEvict?: ((kind: EvictedKind) => void) | undefined
  readonly now?: () => number
}

/** Bindings and session counts in Maps; every entry has a TTL, enforced on read and by a sweep. */
export class MemoryAffinityStore implements AffinityStore {
  readonly kind = 'memory'
  /** Counts are kept in this process: always live. */
  readonly liveCountsLagMs: number = 0
  readonly #bindings = new Map<string, Binding>()
  readonly #sessions = new Map<string, Map<string, Session>>()
  readonly #counts = new Map<string, Map<string, number>>()
  readonly #sweeper: NodeJS.Timeout
  readonly #now: () => number
  readonly #maxEntries: number
  readonly #onEvict: ((kind: EvictedKind) => void) | undefined

  constructor(options: MemoryStoreOptions = {}) {
    this.#now = options.now ?? Date.now
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES
    this.#onEvict = options.onEvict
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
    const now = this.#now()
    const session = sessions.get(sessionId)
    if (session === undefined) {
      if (sessions.size >= this.#maxEntries) this.#evictSession(scope, sessions)
      sessions.set(sessionId, { endpointId, expiresAt: now + ttlMs, movedAt: now })
      this.#count(scope, endpointId, 1)
      return
    }
    if (session.endpointId !== endpointId) {
      this.#count(scope, session.endpointId, -1)
      this.#count(scope, endpointId, 1)
      session.endpointId = endpointId
    }
    session.expiresAt = now + ttlMs
    if (now - session.movedAt >= MOVE_AFTER_MS) {
      sessions.delete(sessionId)
      sessions.set(sessionId, session)
      session.movedAt = now
    }
  }

  sessionCounts(scope: string): ReadonlyMap<string, number> {
    return this.#counts.get(scope) ?? EMPTY
  }

  /** Every unexpired live session, as [scope, session id, endpoint id, expiresAt ms] (a Redis write-back reads them). */
  *liveSessions(): Generator<[string, string, string, number]> {
    const now = this.#now()
    for (const [scope, sessions] of this.#sessions) {
      for (const [id, session] of sessions) if (session.expiresAt > now) yield [scope, id, session.endpointId, session.expiresAt]
    }
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

  /**
   * Sets a binding at the back of the Map: a new one first evicts the least recently set when full.
   * (Callers refresh a binding only past half its TTL, so re-inserting on every set costs little.)
   */
  #put(key: string, endpointId: string, ttlMs: number): Binding {
    if (!this.#bindings.delete(key) && this.#bindings.size >= this.#maxEntries) this.#evictBinding()
    const binding = { endpointId, expiresAt: this.#now() + ttlMs }
    this.#bindings.set(key, binding)
    return binding
  }

  #evictBinding(): void {
    const oldest = this.#bindings.keys().next()
    if (oldest.done === true) return
    this.#bindings.delete(oldest.value)
    this.#onEvict?.('binding')
  }

  #evictSession(scope: string, sessions: Map<string, Session>): void {
    const oldest = sessions.entries().next()
    if (oldest.done === true) return
    const [id, session] = oldest.value
    sessions.delete(id)
    this.#count(scope, session.endpointId, -1)
    this.#onEvict?.('session')
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
