/**
 * @module What the runtime builds for each route rule's action: the request path asks it which
 * backend (pool target) serves a request.
 *
 * A rule that only sends to one pool resolves to a constant; rules with several weighted backends,
 * rule-level session persistence or filters get their own targets (built here, from the action).
 */
import type { SecretRing } from '../affinity/secret-ring.js'
import { TokenAffinity } from '../affinity/token-affinity.js'
import { ProxyError } from '../errors/proxy-error.js'
import type { BackendRef, RouteAction } from '../routing/route-action.js'
import type { AffinityStore } from '../stores/affinity-store.js'
import { CanaryChoice } from './canary-choice.js'
import { compileBackendFilters, compileRuleFilters, type RouteFilters } from './filters/route-filters.js'
import type { PoolTarget } from './pool-target.js'
import type { BackendCell, BackendCounts, RuleCounters } from './rule-counters.js'
import { PoolSessions, PresetAffinity, RuleSessions, type SessionLocator } from './rule-session.js'
import type { SessionRequest } from './session-step.js'
import { WeightedBackends } from './weighted-backends.js'

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
  /** The backend that serves `request`, or ERR_NO_BACKEND when every weight is 0 and no session is bound. */
  choose(request: SessionRequest): BackendTarget | ProxyError
  /** Each backend with its share and counts (admin API, metrics). */
  report(): RuleReport
}

/** One backend of a rule as the admin API and metrics show it. */
export interface RuleBackendReport {
  readonly pool: string
  readonly weight: number
  /** Requests the rule sent to this backend since the process started (kept across reloads). */
  readonly requests: number
  /**
   * Live sessions: the rule's own (`rule`, rule-level session persistence) or the pool's, shared by
   * every rule that routes to it (`pool`); undefined without sessions.
   */
  readonly liveSessions: number | undefined
  readonly sessions: 'rule' | 'pool' | 'none'
}

export interface RuleReport {
  readonly id: string
  readonly backends: readonly RuleBackendReport[]
}

function reportOf(action: RouteAction, backends: readonly BackendTarget[], counts: BackendCounts, ruleSessions: boolean): RuleReport {
  return {
    id: action.id,
    backends: backends.map((target, i) => {
      const sessionCounts = target.affinity?.sessionCounts()
      let live: number | undefined
      if (sessionCounts !== undefined) {
        live = 0
        for (const count of sessionCounts.values()) live += count
      }
      return { pool: target.pool.name, weight: target.backend.weight, requests: (counts.cells[i] as BackendCell).requests, liveSessions: live, sessions: live === undefined ? 'none' : ruleSessions ? 'rule' : 'pool' }
    }),
  }
}

/** What rule targets share across reloads: session secrets and store (rule sessions), and the per-rule counters. */
export interface RuleTargetDeps {
  readonly ring: SecretRing
  readonly store: AffinityStore
  readonly counters: RuleCounters
}

/** A rule with one backend: every request goes to that pool, with the pool's own affinity. */
class OneBackendRule implements RuleTarget {
  readonly action: RouteAction
  readonly filters: RouteFilters | undefined
  readonly #chosen: BackendTarget
  readonly #counts: BackendCounts
  readonly #cell: BackendCell

  constructor(action: RouteAction, filters: RouteFilters | undefined, chosen: BackendTarget, counts: BackendCounts) {
    this.action = action
    this.filters = filters
    this.#chosen = chosen
    this.#counts = counts
    this.#cell = counts.cells[0] as BackendCell
  }

  choose(): BackendTarget {
    this.#cell.requests++
    return this.#chosen
  }

  report(): RuleReport {
    return reportOf(this.action, [this.#chosen], this.#counts, false)
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

  choose(): ProxyError {
    return new ProxyError('ERR_NO_BACKEND', `route rule ${this.action.id} has no backend`)
  }

  report(): RuleReport {
    return { id: this.action.id, backends: [] }
  }
}

// ---- split helper: multi-backend rules (weights, rule sessions, sticky canaries) -----------------

/**
 * A rule over several backends, or with rule-level session persistence. In order: a request whose
 * session is bound to one of the backends stays there (sticky, whatever the weights or canary
 * conditions say now); then the canary header and cookie conditions; then the smooth weighted
 * choice among backends of weight > 0. Only new sessions therefore follow changed weights.
 */
class SplitRule implements RuleTarget {
  readonly action: RouteAction
  readonly filters: RouteFilters | undefined
  readonly #backends: readonly BackendTarget[]
  readonly #sessions: SessionLocator | undefined
  readonly #canary: CanaryChoice | undefined
  readonly #weighted: WeightedBackends
  readonly #counts: BackendCounts

  constructor(action: RouteAction, filters: RouteFilters | undefined, backends: readonly BackendTarget[], sessions: SessionLocator | undefined, counts: BackendCounts) {
    this.action = action
    this.filters = filters
    this.#backends = backends
    this.#sessions = sessions
    this.#canary = action.canary === undefined ? undefined : new CanaryChoice(action.canary)
    this.#weighted = new WeightedBackends(backends.map((backend) => backend.backend.weight))
    this.#counts = counts
  }

  choose(request: SessionRequest): BackendTarget | ProxyError {
    let index = this.#sessions === undefined ? -1 : this.#sessions.locate(request)
    if (index === -1 && this.#canary !== undefined) index = this.#canary.decide(request)
    if (index === -1) index = this.#weighted.next()
    if (index === -1) return new ProxyError('ERR_NO_BACKEND', `route rule ${this.action.id} gives every backend weight 0`)
    ;(this.#counts.cells[index] as BackendCell).requests++
    return this.#backends[index] as BackendTarget
  }

  report(): RuleReport {
    return reportOf(this.action, this.#backends, this.#counts, this.action.sessionPersistence !== undefined)
  }
}

/**
 * Builds the target of `action`; `targets` holds every pool's target by name (the config check
 * guarantees they exist). Rules with several backends or with session persistence need `deps`.
 */
export function ruleTarget(action: RouteAction, targets: ReadonlyMap<string, PoolTarget>, deps?: RuleTargetDeps): RuleTarget {
  const filters = compileRuleFilters(action, targets)
  if (action.backends.length === 0 && filters !== undefined) return new NoBackendRule(action, filters)
  const backend = action.backends[0]
  if (action.backends.length === 1 && backend !== undefined && action.sessionPersistence === undefined) {
    const target = targets.get(backend.pool) as PoolTarget
    const counts = deps?.counters.register(action, [target]) ?? { cells: [{ requests: 0 }] }
    return new OneBackendRule(action, filters, { pool: target.pool, affinity: target.affinity, backend, filters: compileBackendFilters(backend, targets) }, counts)
  }
  if (deps === undefined) throw new Error(`route rule ${action.id}: several backends or rule-level session persistence need the session services`)
  const pools = action.backends.map((ref) => targets.get(ref.pool) as PoolTarget)
  let sessions: SessionLocator | undefined
  let affinities: readonly (PresetAffinity | undefined)[]
  if (action.sessionPersistence !== undefined) {
    const rule = new RuleSessions(action.id, action.sessionPersistence, pools.map((target) => target.pool), deps.ring, deps.store)
    sessions = rule
    affinities = rule.affinities
  } else {
    // The pools' own cookie/header affinity keeps a session on its pool (ingress-nginx
    // affinity-canary-behavior: sticky); `legacy` decides every request anew, then the pool's affinity applies.
    affinities = pools.map((target) => (target.affinity instanceof TokenAffinity ? new PresetAffinity(target.affinity) : undefined))
    const sticky = action.canary?.affinityBehavior !== 'legacy' && affinities.some((affinity) => affinity !== undefined)
    sessions = sticky ? new PoolSessions(affinities) : undefined
    if (!sticky) affinities = []
  }
  const backends = action.backends.map((ref, i): BackendTarget => {
    const target = pools[i] as PoolTarget
    return { pool: target.pool, affinity: affinities[i] ?? target.affinity, backend: ref, filters: compileBackendFilters(ref, targets) }
  })
  return new SplitRule(action, filters, backends, sessions, deps.counters.register(action, backends))
}

/**
 * The reports of the rules worth a line of their own: several backends, or rule sessions. A
 * single-pool rule is its pool (see the pool's own counts), and listing every Ingress path would make
 * the metric's cardinality follow the size of the route table.
 */
export function splitRules(runtime: { readonly rules: readonly RuleTarget[] }): RuleReport[] {
  return runtime.rules.filter((rule) => rule.action.backends.length > 1 || rule.action.sessionPersistence !== undefined).map((rule) => rule.report())
}
