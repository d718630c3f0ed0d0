/**
 * @module The affinity store of a worker process (`workers` > 1 with the memory store): the bindings
 * live once, in the supervisor (ipc-store-server.ts), so every worker sees the same ones.
 *
 * First binding wins at the supervisor, which handles one message at a time. A worker keeps the
 * bindings it has seen in a small cache, used only while they are valid: a binding changes only by
 * expiring (the cache holds the same absolute expiry, on the same clock) or by a rebind, which the
 * supervisor announces to every other worker before they can ask again. Misses, claims and rebinds
 * are one IPC round trip; refreshes and live-session touches are batched one-way notes.
 */
import type { SupervisorOps } from '../cluster/protocol.js'
import type { AffinityStore, Binding, MaybePromise } from './affinity-store.js'

/** The supervisor side of the channel, as the store needs it. */
export interface StoreChannel {
  request<Op extends 'store.get' | 'store.claim' | 'store.rebind' | 'store.counts'>(op: Op, args: SupervisorOps[Op]['args']): Promise<SupervisorOps[Op]['result']>
  notify<Op extends 'store.refresh' | 'store.touch'>(op: Op, args: SupervisorOps[Op]['args']): void
}

const CACHE_LIMIT = 50_000
const FLUSH_MS = 10
/** Session counts are fetched at most this often (the contract allows a second of lag). */
const COUNTS_MAX_AGE_MS = 1000
/** A session already reported to the same endpoint is re-reported at most this often. */
const TOUCH_INTERVAL_MS = 1000

interface Counts {
  map: ReadonlyMap<string, number>
  fetchedAt: number
  fetching: boolean
}

/** AffinityStore over IPC to the supervisor's memory store. */
export class IpcAffinityStore implements AffinityStore {
  readonly kind = 'memory'
  /** Counts are cached for COUNTS_MAX_AGE_MS and fetched in a round trip: twice that bounds their age. */
  readonly liveCountsLagMs = 2 * COUNTS_MAX_AGE_MS
  readonly #channel: StoreChannel
  readonly #cache = new Map<string, Binding>()
  readonly #counts = new Map<string, Counts>()
  /** scope\0session → endpoint and time last reported. */
  readonly #touched = new Map<string, { endpointId: string; at: number }>()
  #touches: [string, string, string, number][] = []
  #refreshes: [string, number][] = []
  #flushTimer: NodeJS.Timeout | undefined
  readonly #sweeper: NodeJS.Timeout

  constructor(channel: StoreChannel) {
    this.#channel = channel
    this.#sweeper = setInterval(() => this.#sweep(), 5000)
    this.#sweeper.unref()
  }

  get(key: string): MaybePromise<Binding | undefined> {
    const cached = this.#cached(key)
    if (cached !== undefined) return cached
    return this.#channel.request('store.get', { key }).then((binding) => (binding === null ? undefined : this.#remember(key, binding)))
  }

  claim(key: string, endpointId: string, ttlMs: number): MaybePromise<Binding> {
    return this.#channel.request('store.claim', { key, endpointId, ttlMs }).then((binding) => this.#remember(key, binding))
  }

  rebind(key: string, endpointId: string, ttlMs: number, expectedOld: string): MaybePromise<Binding> {
    this.#cache.delete(key)
    return this.#channel.request('store.rebind', { key, endpointId, ttlMs, expectedOld }).then((binding) => this.#remember(key, binding))
  }

  refresh(key: string, ttlMs: number): void {
    const cached = this.#cache.get(key)
    // The supervisor extends it to at least this: the cached expiry never runs past the real one.
    if (cached !== undefined) this.#cache.set(key, { endpointId: cached.endpointId, expiresAt: Date.now() + ttlMs })
    this.#refreshes.push([key, ttlMs])
    this.#scheduleFlush()
  }

  touchSession(scope: string, sessionId: string, endpointId: string, ttlMs: number): void {
    const id = `${scope}\0${sessionId}`
    const now = Date.now()
    const last = this.#touched.get(id)
    if (last !== undefined && last.endpointId === endpointId && now - last.at < Math.min(TOUCH_INTERVAL_MS, ttlMs / 10)) return
    this.#touched.set(id, { endpointId, at: now })
    this.#touches.push([scope, sessionId, endpointId, ttlMs])
    this.#scheduleFlush()
  }

  sessionCounts(scope: string): ReadonlyMap<string, number> {
    let counts = this.#counts.get(scope)
    if (counts === undefined) this.#counts.set(scope, (counts = { map: EMPTY, fetchedAt: 0, fetching: false }))
    if (!counts.fetching && Date.now() - counts.fetchedAt >= COUNTS_MAX_AGE_MS) {
      const entry = counts
      entry.fetching = true
      this.#channel.request('store.counts', { scope }).then(
        (pairs) => {
          entry.map = new Map(pairs)
          entry.fetchedAt = Date.now()
          entry.fetching = false
        },
        () => (entry.fetching = false),
      )
    }
    return counts.map
  }

  /** The supervisor says these keys were rebound by another worker. */
  invalidate(keys: readonly string[]): void {
    for (const key of keys) this.#cache.delete(key)
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#flush()
  }

  #cached(key: string): Binding | undefined {
    const binding = this.#cache.get(key)
    if (binding === undefined) return undefined
    if (binding.expiresAt > Date.now()) return binding
    this.#cache.delete(key)
    return undefined
  }

  #remember(key: string, binding: Binding): Binding {
    this.#cache.delete(key)
    // Bounded: the oldest entry goes first (Map iteration is insertion order).
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.delete(this.#cache.keys().next().value as string)
    this.#cache.set(key, binding)
    return binding
  }

  #scheduleFlush(): void {
    if (this.#flushTimer !== undefined) return
    this.#flushTimer = setTimeout(() => this.#flush(), FLUSH_MS)
    this.#flushTimer.unref()
  }

  #flush(): void {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    if (this.#refreshes.length > 0) this.#channel.notify('store.refresh', this.#refreshes)
    if (this.#touches.length > 0) this.#channel.notify('store.touch', this.#touches)
    this.#refreshes = []
    this.#touches = []
  }

  #sweep(): void {
    const now = Date.now()
    for (const [id, touched] of this.#touched) if (now - touched.at >= TOUCH_INTERVAL_MS) this.#touched.delete(id)
    for (const [key, binding] of this.#cache) if (binding.expiresAt <= now) this.#cache.delete(key)
  }
}

const EMPTY: ReadonlyMap<string, number> = new Map()
