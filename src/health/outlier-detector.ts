/**
 * @module Passive health (outlier detection): eject endpoints that keep failing real requests.
 *
 * After `consecutiveFailures` failures of the counted kinds an endpoint is ejected for
 * `baseEjectionTime × n` (n = ejections in a row, capped at `maxEjectionTime`), never more than
 * `maxEjectedPercent` of the pool at once (Envoy outlier detection). A success resets the count; the
 * streak multiplier resets once the endpoint stayed in for `maxEjectionTime`. A client abort is
 * never reported here, so clients cannot eject endpoints.
 */
import type { PassiveFailureKind } from '../config/health-schema.js'
import type { PassiveHealthConfig } from '../config/schema.js'
import type { Endpoint } from '../upstream/endpoint.js'

/** What the detector tells the outside world (logs, metrics). */
export interface OutlierEvents {
  ejected(endpoint: Endpoint, durationMs: number): void
  ejectionSkipped(endpoint: Endpoint): void
}

interface Streak {
  count: number
  lastReadmit: number
  timer: NodeJS.Timeout | undefined
}

/** Per-pool passive health state. */
export class OutlierDetector {
  readonly #config: PassiveHealthConfig
  readonly #kinds: ReadonlySet<PassiveFailureKind>
  readonly #endpoints: () => readonly Endpoint[]
  readonly #events: OutlierEvents
  readonly #streaks = new WeakMap<Endpoint, Streak>()
  readonly #timers = new Set<NodeJS.Timeout>()

  constructor(config: PassiveHealthConfig, endpoints: () => readonly Endpoint[], events: OutlierEvents) {
    this.#config = config
    this.#kinds = new Set(config.failures)
    this.#endpoints = endpoints
    this.#events = events
  }

  /** A request to `endpoint` succeeded (any answer that is not a counted failure). */
  recordSuccess(endpoint: Endpoint): void {
    if (endpoint.consecutiveFailures !== 0) endpoint.consecutiveFailures = 0
  }

  /** A request to `endpoint` failed in a way of `kind`. */
  recordFailure(endpoint: Endpoint, kind: PassiveFailureKind, now = Date.now()): void {
    endpoint.failuresTotal++
    if (!this.#config.enabled || !this.#kinds.has(kind)) return
    endpoint.consecutiveFailures++
    if (endpoint.consecutiveFailures < this.#config.consecutiveFailures || endpoint.ejectedUntil !== 0) return
    const all = this.#endpoints()
    const ejected = all.filter((candidate) => candidate.ejectedUntil !== 0).length
    if ((ejected + 1) * 100 > all.length * this.#config.maxEjectedPercent) {
      // Reported once per failing streak: once per failed request would flood the log.
      if (endpoint.consecutiveFailures === this.#config.consecutiveFailures) this.#events.ejectionSkipped(endpoint)
      return
    }
    this.#eject(endpoint, now)
  }

  /** Cancels readmission timers (shutdown). */
  stop(): void {
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
  }

  #eject(endpoint: Endpoint, now: number): void {
    const streak = this.#streaks.get(endpoint) ?? { count: 0, lastReadmit: 0, timer: undefined }
    this.#streaks.set(endpoint, streak)
    if (streak.count > 0 && now - streak.lastReadmit > this.#config.maxEjectionTime) streak.count = 0
    streak.count++
    endpoint.ejections++
    endpoint.consecutiveFailures = 0
    const duration = Math.min(this.#config.baseEjectionTime * streak.count, this.#config.maxEjectionTime)
    endpoint.setEjectedUntil(now + duration, `passive health: ${this.#config.consecutiveFailures} consecutive failures`)
    this.#events.ejected(endpoint, duration)
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      streak.lastReadmit = Date.now()
      endpoint.setEjectedUntil(0, 'passive health: ejection ended')
    }, duration)
    timer.unref()
    this.#timers.add(timer)
  }
}
