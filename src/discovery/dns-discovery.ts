/**
 * @module Keeps one pool's discovered endpoints equal to what DNS says, re-resolving every interval.
 *
 * What is safe when DNS misbehaves:
 * - A failure of DNS itself (timeout, SERVFAIL, refused, unreachable) says nothing about the
 *   endpoints, so the last known set stays, however long the failure lasts.
 * - NXDOMAIN/NODATA is an answer: a Kubernetes headless Service with no ready Pods answers NXDOMAIN
 *   (kubernetes/dns#245), and scaling to zero must be able to empty the pool. But a lone NXDOMAIN
 *   also comes from DNS servers out of sync (coredns/coredns#1365, #6518) or a zone being reloaded,
 *   and emptying a pool on it turns a DNS blip into an outage. So the set is emptied only after
 *   `emptyAfter` consecutive such answers (like HAProxy's `hold nx`); failures in between neither
 *   count nor reset, an answer with records resets. With nothing known yet (at start) there is
 *   nothing to keep, so the first such answer applies at once.
 * - An answer with records is applied at once: endpoints missing from it drain (drainTimeout).
 */
import { Resolver } from 'node:dns/promises'
import type { DiscoveryConfig } from '../config/schema.js'
import type { Logger } from '../observability/logger.js'
import type { EndpointSpec, UpstreamPool } from '../upstream/upstream-pool.js'
import { toDiscoveryError, type DnsDiscoveryError } from './dns-error.js'
import { queryTargets } from './dns-query.js'
import { specIds, specsFromTargets } from './dns-specs.js'

/** Receives each discovery round's outcome (metrics count them). */
export interface DiscoveryObserver {
  /** A round's answer was applied (records, or an accepted empty set). */
  dnsRefreshed(poolName: string): void
  /** A round failed, or its empty answer is held; the last known endpoints stay. */
  dnsFailed(poolName: string, error: DnsDiscoveryError): void
}

/** The pool a discovery keeps up to date. */
export type DiscoveredPool = Pick<UpstreamPool, 'name' | 'setEndpoints'>

/** Collaborators of a DnsDiscovery. */
export interface DnsDiscoveryOptions {
  readonly logger: Logger
  readonly observer?: DiscoveryObserver | undefined
}

interface FailureStreak {
  readonly since: number
  count: number
  last: DnsDiscoveryError
}

/** DNS discovery for one pool: `start()` resolves once and then every `interval` until `stop()`. */
export class DnsDiscovery {
  /** Rounds whose answer was applied, since start. */
  refreshes = 0
  /** Rounds that failed or whose empty answer was held, since start. */
  failures = 0
  readonly #pool: DiscoveredPool
  readonly #config: DiscoveryConfig
  readonly #logger: Logger
  readonly #observer: DiscoveryObserver | undefined
  readonly #resolver: Resolver
  /** Ids of the applied set; undefined until DNS first answered. */
  #known: string[] | undefined
  #streak: FailureStreak | undefined
  #emptyAnswers = 0
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(pool: DiscoveredPool, config: DiscoveryConfig, options: DnsDiscoveryOptions) {
    this.#pool = pool
    this.#config = config
    this.#logger = options.logger.child({ pool: pool.name, dns: config.dns, resolver: config.resolver ?? 'system' })
    this.#observer = options.observer
    this.#resolver = createResolver(config)
  }

  /** Ids of the endpoints DNS last gave (applied); empty before the first answer. */
  get endpointIds(): readonly string[] {
    return this.#known ?? []
  }

  /** Resolves once (the promise settles when that round is applied or failed), then every interval. */
  async start(): Promise<void> {
    await this.#safeRound()
    this.#schedule()
  }

  /** Stops resolving; a query in flight is cancelled and its answer ignored. */
  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#resolver.cancel()
  }

  #schedule(): void {
    if (this.#stopped) return
    // The next round is timed from the end of this one, so slow answers never overlap.
    this.#timer = setTimeout(() => void this.#safeRound().then(() => this.#schedule()), this.#config.interval)
    this.#timer.unref()
  }

  async #safeRound(): Promise<void> {
    try {
      await this.#round()
    } catch (error) {
      this.#logger.error({ err: error }, 'DNS discovery round failed unexpectedly')
    }
  }

  async #round(): Promise<void> {
    let specs: EndpointSpec[]
    try {
      specs = specsFromTargets(await queryTargets(this.#resolver, this.#config), this.#config.scheme, this.#config.weight)
      this.#emptyAnswers = 0
    } catch (error) {
      if (this.#stopped) return
      const failure = toDiscoveryError(error, `${this.#config.srv ? 'SRV' : 'A/AAAA'} ${this.#config.dns}`)
      if (failure.code === 'ERR_DNS_FAILURE' || !this.#acceptEmpty()) return this.#failed(failure)
      specs = []
    }
    if (!this.#stopped) this.#apply(specs)
  }

  /** Counts one NXDOMAIN/NODATA answer; true when the set should now be emptied. */
  #acceptEmpty(): boolean {
    this.#emptyAnswers++
    return this.#known === undefined || this.#known.length === 0 || this.#emptyAnswers >= this.#config.emptyAfter
  }

  #apply(specs: EndpointSpec[]): void {
    const ids = specIds(specs)
    const previous = this.#known
    this.#known = ids
    if (previous === undefined || previous.length !== ids.length || previous.some((id, index) => id !== ids[index])) {
      this.#pool.setEndpoints('discovery', specs)
      this.#logChange(previous, ids)
    }
    const streak = this.#streak
    this.#streak = undefined
    if (streak !== undefined && ids.length > 0) {
      this.#logger.info({ failures: streak.count, durationMs: Date.now() - streak.since, lastCode: streak.last.dnsCode, endpoints: ids.length }, 'DNS discovery recovered')
    }
    this.refreshes++
    this.#observer?.dnsRefreshed(this.#pool.name)
  }

  #logChange(previous: readonly string[] | undefined, ids: readonly string[]): void {
    if (ids.length === 0) {
      const removed = previous ?? []
      this.#logger.warn({ removed, emptyAfter: this.#config.emptyAfter }, previous === undefined ? 'DNS name has no records: the pool has no discovered endpoints' : 'DNS name has no records: discovered endpoints removed')
      return
    }
    const before = new Set(previous)
    const after = new Set(ids)
    this.#logger.info({ endpoints: ids, added: ids.filter((id) => !before.has(id)), removed: (previous ?? []).filter((id) => !after.has(id)) }, 'discovered endpoints changed')
  }

  #failed(error: DnsDiscoveryError): void {
    this.failures++
    this.#observer?.dnsFailed(this.#pool.name, error)
    if (this.#streak !== undefined) {
      this.#streak.count++
      this.#streak.last = error
      return
    }
    this.#streak = { since: Date.now(), count: 1, last: error }
    const fields = { code: error.code, dnsCode: error.dnsCode, query: error.query, error: error.message }
    if (this.#known === undefined) {
      this.#logger.error(fields, 'DNS discovery failed at start: the pool has no discovered endpoints until DNS answers')
    } else if (error.code === 'ERR_DNS_NO_RECORDS') {
      this.#logger.warn({ ...fields, endpoints: this.#known.length, emptyAfter: this.#config.emptyAfter }, 'DNS name has no records: keeping the last known endpoints until the answer repeats')
    } else {
      this.#logger.warn({ ...fields, endpoints: this.#known.length }, 'DNS discovery failed: keeping the last known endpoints')
    }
  }
}

/**
 * A resolver asking `config.resolver` (or the system's servers). Each query waits the interval,
 * clamped to 1–5 s, and is tried twice, so a dead server is noticed within about two intervals
 * without stacking rounds, and a slow one is still given a fair chance.
 */
function createResolver(config: DiscoveryConfig): Resolver {
  const resolver = new Resolver({ timeout: Math.min(Math.max(config.interval, 1000), 5000), tries: 2 })
  if (config.resolver !== undefined) resolver.setServers([config.resolver])
  return resolver
}
