/**
 * @module Least-sessions: new sessions go to the endpoint with the fewest live bound sessions.
 *
 * After a scale-out the new endpoints start with none, so they fill up instead of the old ones
 * keeping every session (ingress-nginx #4093, #5944). In-flight requests count too, so a burst of
 * new sessions spreads before the counts have caught up.
 */
import type { Endpoint } from '../upstream/endpoint.js'
import type { BalancingPolicy } from './policy.js'

/** Picks the candidate with the lowest (live sessions + in-flight) / weight. */
export class LeastSessions implements BalancingPolicy {
  /** Live sessions per endpoint id; set by the pool once its affinity exists. */
  counts: () => ReadonlyMap<string, number> = () => new Map()
  #turn = 0

  pick(candidates: readonly Endpoint[]): Endpoint {
    const counts = this.counts()
    let best = candidates[0] as Endpoint
    let bestLoad = Infinity
    const start = this.#turn++ % candidates.length
    for (let offset = 0; offset < candidates.length; offset++) {
      const endpoint = candidates[(start + offset) % candidates.length] as Endpoint
      const load = ((counts.get(endpoint.id) ?? 0) + endpoint.inflight) / endpoint.weight
      if (load < bestLoad) {
        bestLoad = load
        best = endpoint
      }
    }
    return best
  }
}
