/**
 * @module Split-rule metrics, read at scrape time from the rule reports (proxying/rule-target.ts):
 * requests and live sessions per route rule and backend. Only rules with several backends or rule
 * sessions have series, so their number is bounded by the config, never by traffic.
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { RuleReport } from '../proxying/rule-target.js'

export function registerRuleMetrics(registry: Registry, rules: () => readonly RuleReport[]): void {
  new Counter({
    name: 'latch_route_backend_requests_total',
    help: 'Requests a route rule with several backends (or rule sessions) sent to each backend, by rule id and pool.',
    labelNames: ['rule', 'pool'],
    registers: [registry],
    collect() {
      this.reset()
      for (const rule of rules()) for (const backend of rule.backends) this.inc({ rule: rule.id, pool: backend.pool }, backend.requests)
    },
  })
  new Gauge({
    name: 'latch_route_backend_weight',
    help: 'Configured weight of each backend of a route rule with several backends.',
    labelNames: ['rule', 'pool'],
    registers: [registry],
    aggregator: 'max',
    collect() {
      this.reset()
      for (const rule of rules()) for (const backend of rule.backends) this.set({ rule: rule.id, pool: backend.pool }, backend.weight)
    },
  })
  new Gauge({
    name: 'latch_route_backend_sessions',
    help: 'Live sessions per route rule and backend: the rule\'s own with rule-level sessionPersistence (sessions="rule"), else the pool\'s, shared by every rule that routes to it (sessions="pool").',
    labelNames: ['rule', 'pool', 'sessions'],
    registers: [registry],
    // Counts come from the store, cluster-wide when it is shared: workers report the same numbers.
    aggregator: 'max',
    collect() {
      this.reset()
      for (const rule of rules()) {
        for (const backend of rule.backends) if (backend.liveSessions !== undefined) this.set({ rule: rule.id, pool: backend.pool, sessions: backend.sessions }, backend.liveSessions)
      }
    },
  })
}
