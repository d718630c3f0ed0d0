/**
 * @module Requests per route rule and backend, kept by process across reloads (a reload rebuilds
 * every rule target; the counts of a rule and pool that stay go on counting, as Prometheus counters
 * must). Series exist only for the rules and backends of the config: their number is bounded by it.
 */
import type { RouteAction } from '../routing/route-action.js'
import type { PoolTarget } from './pool-target.js'

/** One rule backend's request count. */
export interface BackendCell {
  requests: number
}

/** The cells of one rule, by backend index. */
export interface BackendCounts {
  readonly cells: readonly BackendCell[]
}

/** Process-wide registry of the cells, by rule id and pool. */
export class RuleCounters {
  readonly #cells = new Map<string, BackendCell>()

  /** The cells of `action`'s backends (existing ones kept, so counts survive a reload). */
  register(action: RouteAction, targets: readonly PoolTarget[]): BackendCounts {
    return {
      cells: targets.map((target) => {
        const key = `${action.id}\0${target.pool.name}`
        let cell = this.#cells.get(key)
        if (cell === undefined) this.#cells.set(key, (cell = { requests: 0 }))
        return cell
      }),
    }
  }
}
