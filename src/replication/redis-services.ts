/**
 * @module Everything one Latch process keeps in Redis, built from `store: { type: redis }`: the
 * command connection (breaker, health), the pub/sub bus and the affinity store on top of them, plus
 * the shared signing secret and the shared operator state.
 */
import type { RedisStoreConfig } from '../config/store-schema.js'
import type { Logger } from '../observability/logger.js'
import type { SecretRing } from '../affinity/secret-ring.js'
import type { EndpointActionResult } from '../admin/endpoint-actions.js'
import { AdminSync } from './admin-sync.js'
import { RedisBus } from '../stores/redis-bus.js'
import { SharedSecret } from './shared-secret.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import { RedisConnection } from '../stores/redis-connection.js'
import { RedisAffinityStore } from '../stores/redis-store.js'

/** The Redis side of one process; `close()` closes it all. */
export class RedisServices {
  readonly config: RedisStoreConfig
  readonly connection: RedisConnection
  readonly bus: RedisBus
  readonly store: RedisAffinityStore
  readonly #logger: Logger
  #secret: SharedSecret | undefined
  #admin: AdminSync | undefined

  constructor(config: RedisStoreConfig, logger: Logger) {
    this.config = config
    this.#logger = logger
    this.connection = new RedisConnection(config, logger)
    this.bus = new RedisBus(config, this.connection, logger)
    this.store = new RedisAffinityStore(this.connection, config, this.bus)
  }

  /** Signs with the secret shared through Redis (no `sessionSecrets` configured); waits for Redis a moment. */
  async shareSecret(ring: SecretRing, waitMs: number): Promise<void> {
    this.#secret = new SharedSecret(this.connection, ring, this.config.keyPrefix, this.#logger)
    await this.#secret.start(waitMs)
  }

  /** Shares drain/undrain/maintenance with the other replicas; applies theirs now and from now on. */
  async shareAdminState(pools: () => ReadonlyMap<string, UpstreamPool>): Promise<void> {
    this.#admin = new AdminSync(this.connection, this.bus, this.config.keyPrefix, pools, this.#logger)
    await this.#admin.reconcile()
  }

  /** An operator action was applied here: tell the other replicas. */
  adminActionApplied(result: EndpointActionResult): void {
    this.#admin?.shared(result)
  }

  async close(): Promise<void> {
    this.#secret?.close()
    this.#admin?.close()
    await this.store.close()
    await this.bus.close()
    await this.connection.close()
  }
}
