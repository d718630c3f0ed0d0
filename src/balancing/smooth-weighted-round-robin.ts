/**
 * @module Smooth weighted round-robin (nginx's algorithm): weights interleave evenly, never in bursts.
 *
 * Each pick adds every candidate's weight to its running score, takes the highest and subtracts the
 * total from it. With weights 5,1,1 the order is a a b a c a a, not a a a a a b c. Works on any subset
 * of endpoints, so unavailable or already-tried endpoints simply sit out.
 */
import type { BalancingPolicy } from './policy.js'
import type { Endpoint } from '../upstream/endpoint.js'

export class SmoothWeightedRoundRobin implements BalancingPolicy {
  readonly #score = new WeakMap<Endpoint, number>()

  pick(candidates: readonly Endpoint[]): Endpoint | undefined {
    if (candidates.length <= 1) return candidates[0]
    let best = candidates[0] as Endpoint
    let bestScore = -Infinity
    let total = 0
    for (let i = 0; i < candidates.length; i++) {
      const endpoint = candidates[i] as Endpoint
      const score = (this.#score.get(endpoint) ?? 0) + endpoint.weight
      this.#score.set(endpoint, score)
      total += endpoint.weight
      if (score > bestScore) {
        bestScore = score
        best = endpoint
      }
    }
    this.#score.set(best, bestScore - total)
    return best
  }
}
