/**
 * @module The Redis affinity store: bindings and live sessions shared by every replica and worker.
 *
 * Hot path: a binding read from Redis within `localCache.ttl` answers without a round trip (a rebind
 * on any replica invalidates it through pub/sub; after a lost subscription nothing cached is fresh). Claims and rebinds are Lua scripts, atomic across
 * replicas. Refreshes happen only past half-life (callers decide); live-session touches are
 * throttled per session (live-session-book.ts) and sent in the background.
 *
 * Faults (fail-open by default): when a command fails, times out or the breaker is open, the
 * operation is answered from local state (recent bindings; new bindings are kept locally and marked
 * dirty) and counted as a fallback. When Redis answers again, local bindings are written back where
 * Redis has none (first binding wins there too, so replicas converge), and so are the live sessions
 * this process saw (a Redis restarted empty would otherwise count none of them until each is
 * reported again, up to a minute later: touches are throttled). With `failClosed`, the
 * operation rejects with StoreUnavailableError instead (→ 503 ERR_STORE_UNAVAILABLE).
 */
import type { RedisStoreConfig } from '../config/store-schema.js'
import type { RedisBus } from './redis-bus.js'
import type { AffinityStore, Binding, MaybePromise } from './affinity-store.js'
import { BindingCache } from './binding-cache.js'
import { LiveSessionBook, SHARED_COUNTS_LAG_MS, type Touch } from './live-session-book.js'
import { MemoryAffinityStore } from './memory-store.js'
import type { RedisConnection } from './redis-connection.js'
import { CLAIM, COUNTS, decodeBinding, encodeBinding, REBIND, REFRESH, RESTORE_SESSION, TOUCH, type Script } from './redis-scripts.js'
import { StoreUnavailableError } from './store-error.js'

const FLUSH_MS = 50
const SWEEP_MS = 5000
/** Write-back after an outage goes in slices of this many commands. */
const WRITE_BACK_SLICE = 500
/** The pub/sub channel announcing rebinds (message: the key). */
export const BINDINGS_CHANNEL = 'bindings'

/** AffinityStore in Redis, with a local cache and a local fallback. */
export class RedisAffinityStore implements AffinityStore {
  readonly kind = 'redis'
  /** Counts come from the live-session book: cached, then fetched in a round trip. */
  readonly liveCountsLagMs = SHARED_COUNTS_LAG_MS
  readonly #connection: RedisConnection
  readonly #bus: RedisBus | undefined
  readonly #prefix: string
  readonly #failClosed: boolean
  readonly #cache: BindingCache
  /** Live sessions as this process saw them: the counts while Redis is unreachable. */
  readonly #local: MemoryAffinityStore
  /** Touches passed on to Redis, and the cluster-wide counts fetched from it. */
  readonly #sessions: LiveSessionBook
  readonly #sweeper: NodeJS.Timeout

  constructor(connection: RedisConnection, config: RedisStoreConfig, bus?: RedisBus) {
    this.#connection = connection
    this.#local = new MemoryAffinityStore({ maxEntries: config.maxEntries })
    this.#bus = bus
    this.#prefix = config.keyPrefix
    this.#failClosed = config.failClosed
    this.#cache = new BindingCache(config.localCache.maxEntries, config.localCache.ttl)
    this.#sessions = new LiveSessionBook(
      { send: (touches) => this.#sendTouches(touches), fetch: (scope) => this.#fetchCounts(scope) },
      { flushMs: FLUSH_MS, initial: (scope) => this.#local.sessionCounts(scope) },
    )
    bus?.subscribe(BINDINGS_CHANNEL, (key) => this.#cache.invalidate(key))
    // Rebinds announced while the subscription was down were missed: nothing cached is fresh any more.
    bus?.onReconnect(() => this.#cache.staleAll())
    connection.onRecovered(() => this.#writeBack())
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP_MS)
    this.#sweeper.unref()
  }

  get(key: string): MaybePromise<Binding | undefined> {
    const now = Date.now()
    const fresh = this.#cache.fresh(key, now)
    if (fresh !== undefined) return fresh
    if (!this.#connection.available) return this.#fallback(undefined, () => this.#cache.any(key, now))
    return this.#connection.run((redis) => redis.get(this.#bindingKey(key))).then(
      (value) => {
        const binding = decodeBinding(value)
        if (binding !== undefined) {
          this.#cache.put(key, binding, Date.now())
          return binding
        }
        // Redis lost it (restarted empty) while this process still knows it: keep it, and put it back.
        const known = this.#cache.any(key, Date.now())
        if (known !== undefined) void this.#restore(key, known)
        return known
      },
      (error: unknown) => this.#fallback(error, () => this.#cache.any(key, Date.now())),
    )
  }

  claim(key: string, endpointId: string, ttlMs: number): MaybePromise<Binding> {
    const mine = { endpointId, expiresAt: Date.now() + ttlMs }
    if (!this.#connection.available) return this.#fallback(undefined, () => this.#claimLocally(key, mine))
    return this.#connection.run((redis) => CLAIM.run(redis, [this.#bindingKey(key)], [encodeBinding(mine), ttlMs])).then(
      (value) => this.#remember(key, decodeBinding(value, 0) ?? mine),
      (error: unknown) => this.#fallback(error, () => this.#claimLocally(key, mine)),
    )
  }

  rebind(key: string, endpointId: string, ttlMs: number, expectedOld: string): MaybePromise<Binding> {
    const mine = { endpointId, expiresAt: Date.now() + ttlMs }
    if (!this.#connection.available) return this.#fallback(undefined, () => this.#rebindLocally(key, mine, expectedOld))
    return this.#connection.run((redis) => REBIND.run(redis, [this.#bindingKey(key)], [encodeBinding(mine), ttlMs, expectedOld])).then(
      (value) => {
        const binding = decodeBinding(value, 0) ?? mine
        if (binding.endpointId === endpointId && binding.expiresAt === mine.expiresAt) void this.#bus?.publish(BINDINGS_CHANNEL, key)
        return this.#remember(key, binding)
      },
      (error: unknown) => this.#fallback(error, () => this.#rebindLocally(key, mine, expectedOld)),
    )
  }

  refresh(key: string, ttlMs: number): void {
    const now = Date.now()
    const known = this.#cache.any(key, now)
    const available = this.#connection.available
    if (known !== undefined) this.#cache.put(key, { endpointId: known.endpointId, expiresAt: now + ttlMs }, now, !available)
    if (!available) return
    void this.#connection.run((redis) => REFRESH.run(redis, [this.#bindingKey(key)], [known?.endpointId ?? '', now + ttlMs, ttlMs])).catch(() => undefined)
  }

  touchSession(scope: string, sessionId: string, endpointId: string, ttlMs: number): void {
    this.#local.touchSession(scope, sessionId, endpointId, ttlMs)
    this.#sessions.touch(scope, sessionId, endpointId, ttlMs)
  }

  sessionCounts(scope: string): ReadonlyMap<string, number> {
    return this.#connection.available ? this.#sessions.counts(scope) : this.#local.sessionCounts(scope)
  }

  /** Fetches the cluster-wide counts of `scope` now (the admin API and tests wait for it). */
  async refreshCounts(scope: string): Promise<ReadonlyMap<string, number>> {
    await this.#sessions.fetchNow(scope)
    return this.sessionCounts(scope)
  }

  async close(): Promise<void> {
    clearInterval(this.#sweeper)
    this.#sessions.flush()
    await this.#local.close()
  }

  #bindingKey(key: string): string {
    return `${this.#prefix}b:${key}`
  }

  #remember(key: string, binding: Binding): Binding {
    this.#cache.put(key, binding, Date.now())
    return binding
  }

  /** Redis could not answer: reject (failClosed) or answer from local state. */
  #fallback<T>(error: unknown, local: () => T): T | Promise<never> {
    if (this.#failClosed) {
      return Promise.reject(error instanceof StoreUnavailableError ? error : new StoreUnavailableError('circuit-open', 'Redis is unavailable and store.failClosed is set'))
    }
    this.#connection.fellBack()
    return local()
  }

  #claimLocally(key: string, mine: Binding): Binding {
    const now = Date.now()
    const known = this.#cache.any(key, now)
    if (known !== undefined) return known
    this.#cache.put(key, mine, now, true)
    return mine
  }

  #rebindLocally(key: string, mine: Binding, expectedOld: string): Binding {
    const now = Date.now()
    const known = this.#cache.any(key, now)
    if (known !== undefined && known.endpointId !== expectedOld) return known
    this.#cache.put(key, mine, now, true)
    return mine
  }

  /** Puts a binding Redis lost back, unless another replica bound the key meanwhile. */
  async #restore(key: string, binding: Binding): Promise<void> {
    const ttl = binding.expiresAt - Date.now()
    if (ttl <= 0) return
    try {
      const value = await this.#connection.run((redis) => CLAIM.run(redis, [this.#bindingKey(key)], [encodeBinding(binding), ttl]))
      this.#remember(key, decodeBinding(value, 0) ?? binding)
    } catch {
      // Still unavailable: the next recovery writes it back.
    }
  }

  /** After an outage: every binding and live session known here goes back to Redis where Redis has none. */
  async #writeBack(): Promise<void> {
    this.#sessions.forgetCounts()
    const entries = this.#cache.unexpired(Date.now())
    for (let i = 0; i < entries.length && this.#connection.available; i += WRITE_BACK_SLICE) {
      await Promise.all(entries.slice(i, i + WRITE_BACK_SLICE).map(([key, binding]) => this.#restore(key, binding)))
    }
    await this.#writeBackSessions()
  }

  /** Live sessions seen here, including during the outage (their touches were dropped), with their remaining TTL. */
  async #writeBackSessions(): Promise<void> {
    let slice: Promise<void>[] = []
    for (const [scope, sessionId, endpointId, expiresAt] of this.#local.liveSessions()) {
      if (!this.#connection.available) return
      const ttl = expiresAt - Date.now()
      if (ttl <= 0) continue
      slice.push(this.#runSessionScript(RESTORE_SESSION, scope, sessionId, endpointId, expiresAt, ttl))
      if (slice.length >= WRITE_BACK_SLICE) {
        await Promise.all(slice)
        slice = []
      }
    }
    await Promise.all(slice)
    this.#sessions.forgetCounts() // counts fetched while the write-back ran were partial
  }

  /** Runs TOUCH or RESTORE_SESSION for one session; a failure is left to the next touch or recovery. */
  #runSessionScript(script: Script, scope: string, sessionId: string, endpointId: string, expiresAt: number, ttlMs: number): Promise<void> {
    const live = `${this.#prefix}l:{${scope}}:`
    return this.#connection
      .run((redis) => script.run(redis, [`${this.#prefix}s:{${scope}}:${sessionId}`, live + endpointId, `${this.#prefix}e:{${scope}}`], [endpointId, sessionId, expiresAt, ttlMs, live]))
      .then(() => undefined, () => undefined)
  }

  #sendTouches(touches: readonly Touch[]): void {
    if (!this.#connection.available) return
    const now = Date.now()
    for (const [scope, sessionId, endpointId, ttlMs] of touches) void this.#runSessionScript(TOUCH, scope, sessionId, endpointId, now + ttlMs, ttlMs)
  }

  async #fetchCounts(scope: string): Promise<ReadonlyMap<string, number>> {
    const reply = await this.#connection.run((redis) => COUNTS.run(redis, [`${this.#prefix}e:{${scope}}`], [Date.now(), `${this.#prefix}l:{${scope}}:`]))
    const map = new Map<string, number>()
    if (Array.isArray(reply)) for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), Number(reply[i + 1]))
    return map
  }

  #sweep(): void {
    const now = Date.now()
    this.#cache.sweep(now)
    this.#sessions.sweep()
  }
}
