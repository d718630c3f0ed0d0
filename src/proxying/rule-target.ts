/**
 * @module What the runtime builds for each route rule's action: the request path asks it which
 * backend (pool target) serves a request.
 *
 * A rule that only sends to one pool resolves to a constant; rules with several weighted backends,
 * rule-level session persistence or filters get their own targets (built here, from the action).
 */
import type { BackendRef, RouteAction } from '../routing/route-action.js'
import { compileBackendFilters, compileRuleFilters, type RouteFilters } from './filters/route-filters.js'
import type { PoolTarget } from './pool-target.js'
import type { SessionRequest } from './session-step.js'

/** The backend a rule chose for a request: its pool with the session layer that applies, and its reference in the rule. */
export interface BackendTarget extends PoolTarget {
  /** The rule's backend reference (weight, backend-level filters). */
  readonly backend: BackendRef
  /** The backend's own Gateway API filters (filters/route-filters.ts); undefined when it has none. */
  readonly filters: RouteFilters | undefined
}

/** A compiled route rule as the request path sees it. */
export interface RuleTarget {
  readonly action: RouteAction
  /** The rule's filters, timeouts and retry, compiled; undefined when it has none (the common case). */
  readonly filters: RouteFilters | undefined
  /** The backend that serves `request`. */
  choose(request: SessionRequest): BackendTarget
}

/** A rule with one backend: every request goes to that pool, with the pool's own affinity. */
class OneBackendRule implements RuleTarget {
  readonly action: RouteAction
  readonly filters: RouteFilters | undefined
  readonly #chosen: BackendTarget

  constructor(action: RouteAction, filters: RouteFilters | undefined, chosen: BackendTarget) {
    this.action = action
    this.filters = filters
    this.#chosen = chosen
  }

  choose(): BackendTarget {
    return this.#chosen
  }
}

/**
 * A rule without backends (an HTTPRoute rule that only redirects): its filters answer every request
 * (redirect, else 500 ERR_NO_BACKEND), so nothing ever asks it for a backend.
 */
class NoBackendRule implements RuleTarget {
  readonly action: RouteAction
  readonly filters: RouteFilters

  constructor(action: RouteAction, filters: RouteFilters) {
    this.action = action
    this.filters = filters
  }

  choose(): BackendTarget {
    throw new Error(`route rule ${this.action.id} has no backend`)
  }
}

/** `backend`'s target: its pool's target (from `targets`) with the backend's compiled filters. */
export function backendTarget(backend: BackendRef, targets: ReadonlyMap<string, PoolTarget>): BackendTarget {
  const target = targets.get(backend.pool) as PoolTarget
  return { pool: target.pool, affinity: target.affinity, backend, filters: compileBackendFilters(backend, targets) }
}

/** Builds the target of `action`; `targets` holds every pool's target by name (the config check guarantees they exist). */
export function ruleTarget(action: RouteAction, targets: ReadonlyMap<string, PoolTarget>): RuleTarget {
  const filters = compileRuleFilters(action, targets)
  if (action.backends.length === 0 && filters !== undefined) return new NoBackendRule(action, filters)
  const backend = action.backends[0]
  if (action.backends.length === 1 && backend !== undefined && action.sessionPersistence === undefined) {
    return new OneBackendRule(action, filters, backendTarget(backend, targets))
  }
  throw new Error(`route rule ${action.id}: several backends and rule-level session persistence are not built yet`)
}
