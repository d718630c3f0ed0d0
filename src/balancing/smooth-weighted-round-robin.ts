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
    return smoothWeightedPick(candidates, this.#score)
  }
}

/**
 * One smooth weighted round-robin step over anything with a weight (endpoints, a route rule's
 * backends); `scores` keeps the running scores between calls. Weight 0 never wins while another
 * candidate has weight (its score never rises).
 */
export function smoothWeightedPick<T extends { readonly weight: number }>(candidates: readonly T[], scores: WeakMap<T, number>): T | undefined {
  if (candidates.length <= 1) return candidates[0]
  let best = candidates[0] as T
  let bestScore = -Infinity
  let total = 0
  for (let i = 0; i < candidates.length; i++) {
    const candidate = candidates[i] as T
    const score = (scores.get(candidate) ?? 0) + candidate.weight
    scores.set(candidate, score)
    total += candidate.weight
    if (score > bestScore) {
      bestScore = score
      best = candidate
    }
  }
  scores.set(best, bestScore - total)
  return best
}
