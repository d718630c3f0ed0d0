/**
 * @module Least-request by the power of two choices: two random candidates, the less loaded wins.
 *
 * Comparing two random picks (Mitzenmacher; Envoy's default least-request) avoids the herd effect of
 * always taking the global minimum, which sends every new request of a burst to the same endpoint.
 * Load is in-flight requests, this one included, divided by weight.
 */
import type { BalancingPolicy } from './policy.js'
import type { Endpoint } from '../upstream/endpoint.js'

export class LeastRequest implements BalancingPolicy {
  pick(candidates: readonly Endpoint[]): Endpoint | undefined {
    const count = candidates.length
    if (count <= 1) return candidates[0]
    const first = Math.floor(Math.random() * count)
    let second = Math.floor(Math.random() * (count - 1))
    if (second >= first) second++
    const a = candidates[first] as Endpoint
    const b = candidates[second] as Endpoint
    // The load each would have with this request (Envoy's weight / (active + 1)): comparing the
    // load before it would favour a light endpoint beyond its weight.
    const loadA = (a.inflight + 1) / a.weight
    const loadB = (b.inflight + 1) / b.weight
    if (loadA === loadB) return Math.random() < 0.5 ? a : b
    return loadA < loadB ? a : b
  }
}
