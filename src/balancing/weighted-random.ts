/**
 * @module Weighted random choice: each candidate is picked with probability weight / total weight.
 */
import type { BalancingPolicy } from './policy.js'
import type { Endpoint } from '../upstream/endpoint.js'

export class WeightedRandom implements BalancingPolicy {
  pick(candidates: readonly Endpoint[]): Endpoint | undefined {
    if (candidates.length <= 1) return candidates[0]
    let total = 0
    for (const endpoint of candidates) total += endpoint.weight
    let point = Math.random() * total
    for (const endpoint of candidates) {
      point -= endpoint.weight
      if (point < 0) return endpoint
    }
    return candidates[candidates.length - 1] as Endpoint
  }
}
