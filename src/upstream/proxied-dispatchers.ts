/**
 * @module The upstream connections of a `proxyProtocol` pool's endpoint, kept apart by client connection.
 *
 * A PROXY header is sent once, first on a connection, so an upstream connection speaks for one
 * client for its whole life and must never carry another client's requests. HAProxy marks such
 * connections private to the client session that opened them; Latch does the same with one undici
 * Pool per described connection (client address and port, Latch's address and port: the header's
 * bytes), so a client's keep-alive requests still reuse their upstream connections and nothing is
 * shared between clients. A Pool is dropped when its last connection closes (keep-alive expiry) and,
 * at most `capacity` being kept, the least recently used one is closed gracefully (its requests in
 * flight finish) to make room; either way the next request of that client opens a new connection
 * with the same header. `capacity` is the endpoint's request limit: more client connections than
 * that cannot be using it at once.
 */
import type { Pool as UndiciPool } from 'undici'

/** Makes the Pool for one described connection; `key` identifies it. */
export type ProxiedPoolFactory = (key: string) => UndiciPool

export class ProxiedDispatchers {
  readonly #pools = new Map<string, UndiciPool>()
  readonly #create: ProxiedPoolFactory
  readonly #capacity: number

  constructor(create: ProxiedPoolFactory, capacity: number) {
    this.#create = create
    this.#capacity = capacity
  }

  /** Pools currently kept (for tests and the admin API). */
  get size(): number {
    return this.#pools.size
  }

  /** The Pool for the connection `key` describes: the one kept (now the most recently used), or a new one. */
  get(key: string): UndiciPool {
    const pools = this.#pools
    let pool = pools.get(key)
    if (pool !== undefined) {
      // Map order is insertion order: re-inserting makes it the most recently used.
      pools.delete(key)
      pools.set(key, pool)
      return pool
    }
    if (pools.size >= this.#capacity) this.#evictOldest()
    pool = this.#create(key)
    const created = pool
    const dropWhenIdle = (): void => {
      const { connected, pending, running } = created.stats
      if (connected === 0 && pending === 0 && running === 0 && pools.get(key) === created) {
        pools.delete(key)
        void created.close()
      }
    }
    pool.on('disconnect', dropWhenIdle)
    pool.on('connectionError', dropWhenIdle)
    pools.set(key, pool)
    return pool
  }

  /** Closes every Pool once its requests finished. */
  async close(): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(pools.map((pool) => (pool.closed ? undefined : pool.close())))
  }

  /** Destroys every connection at once. */
  async destroy(): Promise<void> {
    const pools = [...this.#pools.values()]
    this.#pools.clear()
    await Promise.all(pools.map((pool) => (pool.destroyed ? undefined : pool.destroy())))
  }

  #evictOldest(): void {
    const [key, pool] = this.#pools.entries().next().value as [string, UndiciPool]
    this.#pools.delete(key)
    void pool.close()
  }
}
