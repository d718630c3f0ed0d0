/**
 * @module Builds a pool's affinity mode from its config.
 */
import type { AffinityConfig } from '../config/affinity-schema.js'
import type { PoolCookieMaxAge } from '../config/pool-session-persistence.js'
import type { AffinityStore } from '../stores/affinity-store.js'
import type { PoolView } from '../upstream/pool-view.js'
import { ClientIpAffinity } from './client-ip-affinity.js'
import { HashAffinity } from './hash-affinity.js'
import { LearnAffinity } from './learn-affinity.js'
import type { SecretRing } from './secret-ring.js'
import type { SessionAffinity } from './session-affinity.js'
import { poolTokenAffinity } from './token-affinity.js'

/** What every mode may share: the signing secrets and the store. */
export interface AffinityDeps {
  readonly ring: SecretRing
  readonly store: AffinityStore
}

/** The pool's affinity, or undefined for mode `none`; `cookieMaxAge` as poolCookieMaxAge says (a pool's `sessionPersistence`). */
export function createAffinity(pool: PoolView, config: AffinityConfig, deps: AffinityDeps, cookieMaxAge: PoolCookieMaxAge = 'lifetimes'): SessionAffinity | undefined {
  switch (config.mode) {
    case 'none':
      return undefined
    case 'cookie':
    case 'header':
      return poolTokenAffinity(config.mode, pool, config, deps.ring, deps.store, cookieMaxAge)
    case 'client-ip':
      return new ClientIpAffinity(pool, config, deps.store)
    case 'hash':
      return new HashAffinity(pool, config)
    case 'learn':
      return new LearnAffinity(pool, config, deps.store)
  }
}
