/**
 * @module Merges the workers' route-rule reports (`GET /pools` `rules`) into one view of the whole Latch.
 *
 * Requests add up (each worker counts what it routed). Live sessions do not: every worker reads the
 * same cluster-wide counts from the shared store (the supervisor's, or Redis), each up to a second
 * old, so adding them would count each session once per worker; the largest is taken, as for pools
 * (merge-pools.ts). Rules and backends keep the first worker's order; a rule or backend only some
 * workers know (a reload still reaching them) is listed with what those workers say.
 */
import type { RuleBackendReport, RuleReport } from '../proxying/rule-target.js'

/** Merges per-worker rule reports. */
export function mergeRules(byWorker: readonly (readonly RuleReport[])[]): RuleReport[] {
  const merged = new Map<string, Map<string, RuleBackendReport>>()
  for (const rules of byWorker) {
    for (const rule of rules) {
      let backends = merged.get(rule.id)
      if (backends === undefined) merged.set(rule.id, (backends = new Map()))
      for (const backend of rule.backends) {
        const seen = backends.get(backend.pool)
        backends.set(backend.pool, seen === undefined ? backend : {
          ...seen,
          requests: seen.requests + backend.requests,
          liveSessions: seen.liveSessions === undefined && backend.liveSessions === undefined ? undefined : Math.max(seen.liveSessions ?? 0, backend.liveSessions ?? 0),
        })
      }
    }
  }
  return [...merged].map(([id, backends]) => ({ id, backends: [...backends.values()] }))
}
