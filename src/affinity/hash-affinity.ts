/**
 * @module `hash` affinity: stateless consistent hashing (rendezvous) of a request key.
 *
 * Replicas agree without any shared state; adding one of N endpoints remaps ~1/N of the keys and
 * removing one remaps only its own. With `boundedLoad` (consistent hashing with bounded loads,
 * Mirrokni et al.), an endpoint already above (1 + ε) × the mean in-flight requests is passed over
 * for the next one in the key's preference order.
 */
import type { AffinityConfig } from '../config/affinity-schema.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolView } from '../upstream/pool-view.js'
import { readCookie } from './cookie-jar.js'
import { hashString } from '../upstream/id-hash.js'
import { rendezvousScore } from './rendezvous.js'
import { noSession, type AffinityRequest, type SessionAffinity, type SessionLookup } from './session-affinity.js'
import { headerValue } from './token-affinity.js'

const NO_COUNTS: ReadonlyMap<string, number> = new Map()

export class HashAffinity implements SessionAffinity {
  readonly mode = 'hash'
  readonly #pool: PoolView
  readonly #source: string
  readonly #name: string
  readonly #epsilon: number | undefined

  constructor(pool: PoolView, config: AffinityConfig) {
    this.#pool = pool
    const [source, name = ''] = config.hash.key.split(':') as [string, string?]
    this.#source = source
    this.#name = source === 'header' ? name.toLowerCase() : name
    this.#epsilon = config.hash.boundedLoad
  }

  lookup(request: AffinityRequest): SessionLookup {
    const key = this.#key(request)
    if (key === undefined) return noSession(false)
    const bound = this.choose(hashString(key), this.#pool.usableEndpoints)
    return { bound, boundGone: false, problem: undefined, key: undefined, token: undefined, bindable: false }
  }

  /** The endpoint of `candidates` a key hash prefers (within the load bound, if any). */
  choose(keyHash: number, candidates: readonly Endpoint[]): Endpoint | undefined {
    if (this.#epsilon === undefined) return best(keyHash, candidates, Infinity)
    let inflight = 1
    for (const endpoint of candidates) inflight += endpoint.inflight
    const cap = Math.ceil(((1 + this.#epsilon) * inflight) / Math.max(1, candidates.length))
    return best(keyHash, candidates, cap) ?? best(keyHash, candidates, Infinity)
  }

  bind(_lookup: SessionLookup, picked: Endpoint): Endpoint {
    return picked
  }

  commit(): void {}

  sessionCounts(): ReadonlyMap<string, number> {
    return NO_COUNTS
  }

  #key(request: AffinityRequest): string | undefined {
    switch (this.#source) {
      case 'client-ip':
        return request.clientIp
      case 'path':
        return request.logPath
      case 'header':
        return headerValue(request, this.#name)
      case 'cookie':
        return readCookie(request.cookieHeader, this.#name).value
      default: {
        const query = request.target.indexOf('?')
        return query === -1 ? undefined : new URLSearchParams(request.target.slice(query + 1)).get(this.#name) ?? undefined
      }
    }
  }
}

function best(keyHash: number, candidates: readonly Endpoint[], cap: number): Endpoint | undefined {
  let chosen: Endpoint | undefined
  let top = -Infinity
  for (const endpoint of candidates) {
    if (endpoint.inflight >= cap) continue
    const score = rendezvousScore(keyHash, endpoint.hash, endpoint.weight)
    if (score > top) {
      top = score
      chosen = endpoint
    }
  }
  return chosen
}
