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
import type { AffinityStore, Binding, MaybePromise } from './affinity-store.js'
import { Batch } from './batch.js'
import type { StoreOps } from './ipc-store-protocol.js'
import { LiveSessionBook, SHARED_COUNTS_LAG_MS } from './live-session-book.js'

/** The supervisor side of the channel, as the store needs it. */
export interface StoreChannel {
  request<Op extends 'store.get' | 'store.claim' | 'store.rebind' | 'store.counts'>(op: Op, args: StoreOps[Op]['args']): Promise<StoreOps[Op]['result']>
  notify<Op extends 'store.refresh' | 'store.touch'>(op: Op, args: StoreOps[Op]['args']): void
}

const CACHE_LIMIT = 50_000
const FLUSH_MS = 10
const SWEEP_MS = 5000

/** AffinityStore over IPC to the supervisor's memory store. */
export class IpcAffinityStore implements AffinityStore {
  readonly kind = 'memory'
  /** Counts come from the live-session book: cached, then fetched in a round trip. */
  readonly liveCountsLagMs = SHARED_COUNTS_LAG_MS
  readonly #channel: StoreChannel
  readonly #cache = new Map<string, Binding>()
  readonly #sessions: LiveSessionBook
  readonly #refreshes: Batch<[string, number]>
  readonly #sweeper: NodeJS.Timeout

  constructor(channel: StoreChannel) {
    this.#channel = channel
    this.#sessions = new LiveSessionBook(
      {
        send: (touches) => channel.notify('store.touch', touches),
        fetch: (scope) => channel.request('store.counts', { scope }).then((pairs) => new Map(pairs)),
      },
      { flushMs: FLUSH_MS },
    )
    this.#refreshes = new Batch(FLUSH_MS, (refreshes) => channel.notify('store.refresh', refreshes))
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS)
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
  }

  touchSession(scope: string, sessionId: string, endpointId: string, ttlMs: number): void {
    this.#sessions.touch(scope, sessionId, endpointId, ttlMs)
  }

  sessionCounts(scope: string): ReadonlyMap<string, number> {
    return this.#sessions.counts(scope)
  }

  /** Fetches the counts of `scope` from the supervisor now (tests wait for it). */
  refreshCounts(scope: string): Promise<ReadonlyMap<string, number>> {
    return this.#sessions.fetchNow(scope)
  }

  /** The supervisor says these keys were rebound by another worker. */
  invalidate(keys: readonly string[]): void {
    for (const key of keys) this.#cache.delete(key)
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#refreshes.flush()
    this.#sessions.flush()
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

  #sweep(): void {
    const now = Date.now()
    this.#sessions.sweep()
    for (const [key, binding] of this.#cache) if (binding.expiresAt <= now) this.#cache.delete(key)
  }
}
