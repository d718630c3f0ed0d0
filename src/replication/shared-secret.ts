/**
 * @module The cookie/header signing secret shared through Redis when `sessionSecrets` is not set.
 *
 * The first replica to ask stores its random secret (SET NX semantics, in a script); every other
 * replica and worker reads that one, so they all sign and verify alike. Each use extends the key's
 * TTL, and every replica re-asserts it periodically. When Redis is unreachable at start, Latch signs
 * with its own random secret and switches to the shared one once Redis answers, still verifying
 * tokens it issued meanwhile.
 */
import { randomSecret, type SecretRing } from '../affinity/secret-ring.js'
import type { Logger } from '../observability/logger.js'
import type { RedisConnection } from '../stores/redis-connection.js'
import { SHARED_SECRET } from '../stores/redis-scripts.js'

const TTL_MS = 30 * 24 * 3600 * 1000
const REASSERT_MS = 3600 * 1000

/** Keeps `ring` on the secret shared through Redis. */
export class SharedSecret {
  readonly #connection: RedisConnection
  readonly #ring: SecretRing
  readonly #key: string
  readonly #logger: Logger
  readonly #candidate: string
  readonly #timer: NodeJS.Timeout
  #shared: string | undefined

  constructor(connection: RedisConnection, ring: SecretRing, keyPrefix: string, logger: Logger) {
    this.#connection = connection
    this.#ring = ring
    this.#key = `${keyPrefix}secret`
    this.#logger = logger
    this.#candidate = ring.keys[0]?.secret.toString('utf8') ?? randomSecret()
    connection.onRecovered(() => this.sync())
    this.#timer = setInterval(() => void this.sync(), REASSERT_MS)
    this.#timer.unref()
  }

  /** True once the ring signs with the shared secret. */
  get shared(): boolean {
    return this.#shared !== undefined
  }

  /** Waits up to `timeoutMs` for Redis and takes the shared secret; false when Redis did not answer in time. */
  async start(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!this.#connection.available && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    await this.sync()
    if (!this.shared) this.#logger.warn({ store: this.#connection.target }, 'no sessionSecrets configured and Redis did not answer at start: signing with a random secret until Redis shares one (tokens issued meanwhile are recognised only by this process)')
    return this.shared
  }

  /** Fetches (or stores) the shared secret and puts it first in the ring. */
  async sync(): Promise<void> {
    if (!this.#connection.available) return
    let value: unknown
    try {
      value = await this.#connection.run((redis) => SHARED_SECRET.run(redis, [this.#key], [this.#candidate, TTL_MS]))
    } catch {
      return
    }
    if (typeof value !== 'string' || value === this.#shared) return
    const verifying = this.#ring.keys.map((key) => key.secret.toString('utf8')).filter((secret) => secret !== value)
    this.#ring.replace([value, ...verifying])
    this.#ring.generated = false
    if (this.#shared === undefined) this.#logger.info({ store: this.#connection.target }, 'signing affinity tokens with the secret shared through Redis')
    this.#shared = value
  }

  close(): void {
    clearInterval(this.#timer)
  }
}
