/**
 * @module Builds a balancing policy from its config name.
 */
import type { BalancePolicyName } from '../config/schema.js'
import { LeastRequest } from './least-request.js'
import { LeastSessions } from './least-sessions.js'
import type { BalancingPolicy } from './policy.js'
import { SmoothWeightedRoundRobin } from './smooth-weighted-round-robin.js'
import { WeightedRandom } from './weighted-random.js'

/** A new policy instance (policies with state must not be shared between pools). */
export function createPolicy(name: BalancePolicyName): BalancingPolicy {
  switch (name) {
    case 'round-robin':
      return new SmoothWeightedRoundRobin()
    case 'least-request':
      return new LeastRequest()
    case 'random':
      return new WeightedRandom()
    case 'least-sessions':
      return new LeastSessions()
  }
}
