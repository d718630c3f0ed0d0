/**
 * @module What the runtime builds for each route rule's action: the request path asks it which
 * backend (pool target) serves a request.
 *
 * A rule that only sends to one pool resolves to a constant; rules with several weighted backends,
 * rule-level session persistence or filters get their own targets (built here, from the action).
 */
import type { RouteAction } from '../routing/route-action.js'
import { onlyPool } from '../routing/route-action.js'
import type { PoolTarget } from './pool-target.js'
import type { SessionRequest } from './session-step.js'

/** A compiled route rule as the request path sees it. */
export interface RuleTarget {
  readonly action: RouteAction
  /** The backend that serves `request`. */
  choose(request: SessionRequest): PoolTarget
}

/** A rule that sends every request to one pool. */
class OnePoolRule implements RuleTarget {
  readonly action: RouteAction
  readonly #target: PoolTarget

  constructor(action: RouteAction, target: PoolTarget) {
    this.action = action
    this.#target = target
  }

  choose(): PoolTarget {
    return this.#target
  }
}

/** Builds the target of `action`; `targets` holds every pool's target by name (the config check guarantees they exist). */
export function ruleTarget(action: RouteAction, targets: ReadonlyMap<string, PoolTarget>): RuleTarget {
  const pool = onlyPool(action)
  if (pool !== undefined) return new OnePoolRule(action, targets.get(pool) as PoolTarget)
  throw new Error(`route rule ${action.id}: several backends, session persistence and filters are not built yet`)
}
