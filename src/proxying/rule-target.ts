/**
 * @module What the runtime builds for each route rule's action: the request path asks it which
 * backend (pool target) serves a request.
 *
 * A rule that only sends to one pool resolves to a constant; rules with several weighted backends,
 * rule-level session persistence or filters get their own targets (built here, from the action).
 */
import type { BackendRef, RouteAction } from '../routing/route-action.js'
import type { PoolTarget } from './pool-target.js'
import type { SessionRequest } from './session-step.js'

/** The backend a rule chose for a request: its pool with the session layer that applies, and its reference in the rule. */
export interface BackendTarget extends PoolTarget {
  /** The rule's backend reference (weight, backend-level filters). */
  readonly backend: BackendRef
}

/** A compiled route rule as the request path sees it. */
export interface RuleTarget {
  readonly action: RouteAction
  /** The backend that serves `request`. */
  choose(request: SessionRequest): BackendTarget
}

/** A rule with one backend: every request goes to that pool, with the pool's own affinity. */
class OneBackendRule implements RuleTarget {
  readonly action: RouteAction
  readonly #chosen: BackendTarget

  constructor(action: RouteAction, chosen: BackendTarget) {
    this.action = action
    this.#chosen = chosen
  }

  choose(): BackendTarget {
    return this.#chosen
  }
}

/** Builds the target of `action`; `targets` holds every pool's target by name (the config check guarantees they exist). */
export function ruleTarget(action: RouteAction, targets: ReadonlyMap<string, PoolTarget>): RuleTarget {
  const backend = action.backends[0]
  if (action.backends.length === 1 && backend !== undefined && action.sessionPersistence === undefined) {
    const target = targets.get(backend.pool) as PoolTarget
    return new OneBackendRule(action, { pool: target.pool, affinity: target.affinity, backend })
  }
  throw new Error(`route rule ${action.id}: several backends and rule-level session persistence are not built yet`)
}
