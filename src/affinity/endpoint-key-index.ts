/**
 * @module Resolves a token's keyed endpoint id to an endpoint in O(1), for every verifying key.
 *
 * Rebuilt only when the pool's endpoint set (its generation) or the secrets change, so the hit path
 * is two Map lookups, not an HMAC per endpoint (Caddy's cookie policy recomputes one per endpoint).
 */
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolView } from '../upstream/pool-view.js'
import type { SecretRing } from './secret-ring.js'
import { endpointKeyOf } from './session-token.js'

/** keyId → endpointKey → endpoint, for one pool. */
export class EndpointKeyIndex {
  readonly #pool: PoolView
  readonly #ring: SecretRing
  #generation = -1
  #keys: readonly unknown[] = []
  #byKey = new Map<number, Map<string, Endpoint>>()
  readonly #ownKeys = new WeakMap<Endpoint, string>()

  constructor(pool: PoolView, ring: SecretRing) {
    this.#pool = pool
    this.#ring = ring
  }

  /** The endpoint a token's keyed id names, if it is (still) in the pool. */
  lookup(keyId: number, endpointKey: string): Endpoint | undefined {
    this.#sync()
    return this.#byKey.get(keyId)?.get(endpointKey)
  }

  /** The keyed id of `endpoint` under the current signing key (what new tokens carry). */
  keyOf(endpoint: Endpoint): string {
    this.#sync()
    let key = this.#ownKeys.get(endpoint)
    if (key === undefined) {
      key = endpointKeyOf(this.#ring.signing, this.#pool.name, endpoint.id)
      this.#ownKeys.set(endpoint, key)
    }
    return key
  }

  #sync(): void {
    if (this.#generation === this.#pool.generation && this.#keys === this.#ring.keys) return
    this.#generation = this.#pool.generation
    if (this.#keys !== this.#ring.keys) for (const endpoint of this.#pool.endpoints) this.#ownKeys.delete(endpoint)
    this.#keys = this.#ring.keys
    this.#byKey = new Map(
      this.#ring.keys.map((key) => [key.id, new Map(this.#pool.endpoints.map((endpoint) => [endpointKeyOf(key, this.#pool.name, endpoint.id), endpoint]))]),
    )
  }
}
