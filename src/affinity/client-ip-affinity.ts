/**
 * @module `client-ip` affinity: Kubernetes `sessionAffinity: ClientIP` semantics, shared through the store.
 *
 * The client address is the one resolved through trustedProxies (never a spoofable left-most
 * X-Forwarded-For), optionally grouped by prefix. The first request binds through the policy; the
 * binding slides (`timeout`), survives endpoints being added, and moves only when its endpoint
 * becomes unavailable.
 */
import type { AffinityConfig } from '../config/affinity-schema.js'
import { maskAddress } from '../net/ip-prefix.js'
import type { AffinityStore, MaybePromise } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolView } from '../upstream/pool-view.js'
import type { AffinityOutcome, AffinityRequest, SessionAffinity, SessionLookup } from './session-affinity.js'
import { StoredBindings } from './stored-binding.js'

export class ClientIpAffinity implements SessionAffinity {
  readonly mode = 'client-ip'
  readonly #bindings: StoredBindings
  readonly #v4: number
  readonly #v6: number

  constructor(pool: PoolView, config: AffinityConfig, store: AffinityStore) {
    this.#bindings = new StoredBindings(pool, 'ip', store, config.clientIp.timeout)
    this.#v4 = config.clientIp.ipv4Prefix
    this.#v6 = config.clientIp.ipv6Prefix
  }

  lookup(request: AffinityRequest): MaybePromise<SessionLookup> {
    return this.#bindings.lookup(this.#bindings.keyOf(maskAddress(request.clientIp, this.#v4, this.#v6)))
  }

  bind(lookup: SessionLookup, picked: Endpoint, _request: AffinityRequest, rebinding: boolean): MaybePromise<Endpoint> {
    return this.#bindings.bind(lookup, picked, rebinding)
  }

  commit(lookup: SessionLookup, endpoint: Endpoint, _outcome: AffinityOutcome | undefined, request: AffinityRequest): void {
    if (lookup.key !== undefined) this.#bindings.touch(maskAddress(request.clientIp, this.#v4, this.#v6), endpoint)
  }

  sessionCounts(): ReadonlyMap<string, number> {
    return this.#bindings.sessionCounts()
  }
}
