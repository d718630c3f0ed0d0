/**
 * @module The balancing policy contract: a pure choice among endpoints that are already usable.
 *
 * The pool filters out unavailable and already-tried endpoints before asking, so no policy ever
 * re-checks health (Caddy's `Selector` + Pingora's `accept` split). Policies keep their own small
 * state (counters, smooth-WRR weights) keyed by endpoint identity.
 */
import type { Endpoint } from '../upstream/endpoint.js'

/** Picks one endpoint for a request that has no binding. */
export interface BalancingPolicy {
  /** One of `candidates`, chosen by this policy; undefined exactly when there is none. */
  pick(candidates: readonly Endpoint[]): Endpoint | undefined
}
