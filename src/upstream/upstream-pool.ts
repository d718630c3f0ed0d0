/**
 * @module A named pool: its endpoints, which of them are usable, and how a request gets a slot on one.
 *
 * Usable endpoints are recomputed only when an endpoint's state changes, so picking costs no
 * filtering per request. When fewer than `panicThreshold` % of the pool is healthy, every endpoint
 * not disabled by an operator becomes usable again (panic mode) rather than failing everything.
 */
import { createPolicy } from '../balancing/create-policy.js'
import type { BalancingPolicy } from '../balancing/policy.js'
import type { PoolConfig } from '../config/schema.js'
import { OutlierDetector } from '../health/outlier-detector.js'
import { StallDetector } from '../health/stall-detector.js'
import { Endpoint, type EndpointState } from './endpoint.js'
import { endpointIdOf } from './endpoint-id.js'
import { PendingQueue, type Waiter } from './pending-queue.js'
import type { PoolView, SessionCounts } from './pool-view.js'
import { RetryBudget } from './retry-budget.js'

/** Things a pool reports, once each (logs and metrics subscribe). */
export interface PoolObserver {
  endpointStateChanged(pool: UpstreamPool, endpoint: Endpoint, from: EndpointState, to: EndpointState, reason: string): void
  endpointEjected(pool: UpstreamPool, endpoint: Endpoint, durationMs: number): void
  ejectionSkipped(pool: UpstreamPool, endpoint: Endpoint): void
  panicChanged(pool: UpstreamPool, panic: boolean, healthy: number, total: number): void
  endpointAdded(pool: UpstreamPool, endpoint: Endpoint): void
  endpointRemoved(pool: UpstreamPool, endpoint: Endpoint): void
}

/** Something that keeps watching endpoints (the active health checker). */
export interface EndpointWatcher {
  watch(endpoint: Endpoint): void
  unwatch(endpoint: Endpoint): void
  stop(): void
}

/** How a pool is built beyond its config. */
export interface PoolOptions {
  /** Starts the active health checker of this pool. */
  readonly watcher?: (pool: UpstreamPool) => EndpointWatcher
  /** On reload: the pool this one replaces; its endpoints with unchanged settings move over. */
  readonly adoptFrom?: UpstreamPool
}

/** True when two pool configs open connections to an endpoint the same way (undici pool options). */
export function sameConnectionSettings(a: PoolConfig, b: PoolConfig): boolean {
  return JSON.stringify([a.timeouts, a.limits.maxRequestsPerEndpoint, a.tls, a.protocol, a.proxyProtocol]) === JSON.stringify([b.timeouts, b.limits.maxRequestsPerEndpoint, b.tls, b.protocol, b.proxyProtocol])
}

/** True when two pool configs differ in their static endpoint list at most. */
export function sameSettings(a: PoolConfig, b: PoolConfig): boolean {
  return JSON.stringify({ ...a, endpoints: [] }) === JSON.stringify({ ...b, endpoints: [] })
}

/** An endpoint as a source (the config file or DNS discovery) lists it. */
export interface EndpointSpec {
  readonly url: string
  readonly weight: number
}

/** A pool: endpoints, the policy that picks among them, and the options requests to it follow. */
export class UpstreamPool implements PoolView {
  readonly name: string
  #config: PoolConfig
  readonly policy: BalancingPolicy
  readonly outliers: OutlierDetector
  readonly stalls: StallDetector
  readonly retryBudget: RetryBudget
  readonly queue: PendingQueue
  /** Retries made since start (metrics). */
  retries = 0
  /** Incremented whenever endpoints are added or removed (indexes keyed on the set rebuild). */
  generation = 0
  #endpoints: Endpoint[] = []
  #usable: readonly Endpoint[] = []
  #panic = false
  #watcher: EndpointWatcher | undefined
  readonly #observer: PoolObserver
  readonly #removals = new Map<Endpoint, NodeJS.Timeout>()

  /**
   * Live sessions per endpoint id, set by the composition root when a session layer (affinity) sits
   * above this pool; undefined without one. Read by the admin API and metrics, never per request.
   */
  sessionCounts: SessionCounts | undefined

  constructor(config: PoolConfig, observer: PoolObserver, options: PoolOptions = {}) {
    this.name = config.name
    this.#config = config
    this.#observer = observer
    this.policy = createPolicy(config.balance)
    this.retryBudget = new RetryBudget(config.retry.budget, config.retry.minRetriesPerSecond)
    this.queue = new PendingQueue(config.limits.maxPending, config.limits.queueTimeout)
    this.outliers = new OutlierDetector(config.passiveHealth, () => this.#endpoints, {
      ejected: (endpoint, duration) => observer.endpointEjected(this, endpoint, duration),
      ejectionSkipped: (endpoint) => observer.ejectionSkipped(this, endpoint),
    })
    this.stalls = new StallDetector(config.passiveHealth, () => this.#endpoints)
    this.#watcher = options.watcher?.(this)
    // Reload: endpoints whose connection settings did not change move over with their connections,
    // health and ejection state. Static endpoints the new config dropped move over too, and
    // setEndpoints below starts their drain here, so the sessions bound to them keep reaching them
    // until drainTimeout (in the old pool nothing would route to them any more). Endpoints the old
    // pool was already removing finish draining there.
    if (options.adoptFrom !== undefined && sameConnectionSettings(options.adoptFrom.config, config)) {
      for (const endpoint of options.adoptFrom.endpoints) {
        if (endpoint.removalDeadline === 0) {
          options.adoptFrom.release(endpoint)
          this.#add(endpoint, false)
        }
      }
    }
    this.setEndpoints('static', config.endpoints, false)
  }

  /** The pool's config (replaced by `reconfigure` when only its endpoint list changed). */
  get config(): PoolConfig {
    return this.#config
  }

  /** Applies a reloaded config that differs from the current one in `endpoints` at most. */
  reconfigure(config: PoolConfig): void {
    this.#config = config
    this.setEndpoints('static', config.endpoints)
  }

  /** Hands `endpoint` over to another pool (reload): it leaves this one without being closed. */
  release(endpoint: Endpoint): void {
    this.#watcher?.unwatch(endpoint)
    this.#endpoints = this.#endpoints.filter((candidate) => candidate !== endpoint)
    this.generation++
    this.#refresh()
  }

  /**
   * This pool left the config (reload): its checks stop and its endpoints drain for drainTimeout
   * (requests already in flight through it finish), then their connections close.
   */
  retire(): void {
    this.#watcher?.stop()
    this.stalls.stop()
    this.#watcher = undefined
    for (const endpoint of this.#endpoints) if (endpoint.removalDeadline === 0) this.#beginRemoval(endpoint)
  }

  /** Every endpoint, draining ones included. */
  get endpoints(): readonly Endpoint[] {
    return this.#endpoints
  }

  /** True while the pool routes to unhealthy endpoints because too few are healthy. */
  get panic(): boolean {
    return this.#panic
  }

  /**
   * Picks an endpoint with a free slot for a new request, skipping `exclude` (already tried).
   * Returns `'full'` when usable endpoints exist but all are at their request limit (upgrades,
   * which do not use request slots, pass `ignoreLimits`).
   */
  pick(exclude: readonly Endpoint[] | undefined, ignoreLimits = false): Endpoint | 'full' | undefined {
    let candidates = this.#usable
    if (exclude !== undefined && exclude.length > 0) candidates = candidates.filter((endpoint) => !exclude.includes(endpoint))
    const chosen = this.policy.pick(candidates)
    if (chosen === undefined) return undefined
    if (ignoreLimits || !chosen.full) return chosen
    let best: Endpoint | undefined
    for (const candidate of candidates) {
      if (!candidate.full && (best === undefined || candidate.inflight / candidate.weight < best.inflight / best.weight)) best = candidate
    }
    return best ?? 'full'
  }

  /** Endpoints new requests may use (all eligible ones in panic mode). */
  get usableEndpoints(): readonly Endpoint[] {
    return this.#usable
  }

  /** True when `endpoint` is among those new requests may use. */
  isUsable(endpoint: Endpoint): boolean {
    return this.#usable.includes(endpoint)
  }

  /** Waits for a slot (bounded); false when the queue is full. */
  waitForSlot(waiter: Waiter): boolean {
    return this.queue.enqueue(waiter)
  }

  /** Called when a request on `endpoint` ended: hands its slot to a waiting request, if any. */
  slotFreed(endpoint: Endpoint): void {
    if (this.queue.length !== 0 && !endpoint.full && (this.isUsable(endpoint) || endpoint.servesBoundSessions)) this.queue.offer(endpoint)
  }

  /** The Host header sent to `endpoint`, following the pool's `hostHeader` option. */
  hostFor(clientHost: string, endpoint: Endpoint): string {
    const mode = this.config.hostHeader
    if (mode === 'preserve') return clientHost === '' ? endpoint.authority : clientHost
    return mode === 'endpoint' ? endpoint.authority : mode
  }

  /** Endpoint by id, for the admin API and affinity. */
  endpoint(id: string): Endpoint | undefined {
    return this.#endpoints.find((endpoint) => endpoint.id === id)
  }

  /**
   * Makes `source`'s endpoints exactly `specs`: new ones are added (checked before use when
   * `checkNew`), missing ones drain for `drainTimeout` and are then closed, returning ones stay.
   */
  setEndpoints(source: 'static' | 'discovery', specs: readonly EndpointSpec[], checkNew = true): void {
    const wanted = new Map(specs.map((spec) => [endpointIdOf(new URL(spec.url)), spec]))
    for (const endpoint of this.#endpoints) {
      if (endpoint.source !== source) continue
      if (wanted.has(endpoint.id)) {
        if (endpoint.removalDeadline !== 0) this.#cancelRemoval(endpoint)
        wanted.delete(endpoint.id)
      } else if (endpoint.removalDeadline === 0) {
        this.#beginRemoval(endpoint)
      }
    }
    for (const [id, spec] of wanted) {
      if (this.#endpoints.some((endpoint) => endpoint.id === id)) continue
      this.#add(new Endpoint(spec, this.config, source, checkNew && this.config.healthCheck !== undefined))
    }
    this.#refresh()
  }

  /** Stops timers and closes every endpoint's connections. */
  async close(): Promise<void> {
    this.#watcher?.stop()
    this.outliers.stop()
    this.stalls.stop()
    for (const timer of this.#removals.values()) clearTimeout(timer)
    await Promise.all(this.#endpoints.map((endpoint) => endpoint.close()))
  }

  /** Destroys every connection at once (shutdown deadline). */
  async destroy(): Promise<void> {
    await Promise.all(this.#endpoints.map((endpoint) => endpoint.destroy()))
  }

  #add(endpoint: Endpoint, announce = true): void {
    endpoint.onStateChange((changed, from, to, reason) => {
      if (from !== to) this.#observer.endpointStateChanged(this, changed, from, to, reason)
      this.#refresh()
    })
    this.#endpoints = [...this.#endpoints, endpoint]
    this.generation++
    if (announce) this.#observer.endpointAdded(this, endpoint)
    this.#watcher?.watch(endpoint)
  }

  #beginRemoval(endpoint: Endpoint): void {
    endpoint.beginRemoval(Date.now() + this.config.drainTimeout, `removed from ${endpoint.source === 'static' ? 'the config' : 'discovery'}`)
    const timer = setTimeout(() => this.#finishRemoval(endpoint), this.config.drainTimeout)
    timer.unref()
    this.#removals.set(endpoint, timer)
  }

  #cancelRemoval(endpoint: Endpoint): void {
    clearTimeout(this.#removals.get(endpoint))
    this.#removals.delete(endpoint)
    endpoint.cancelRemoval(`back in ${endpoint.source === 'static' ? 'the config' : 'discovery'}`)
  }

  #finishRemoval(endpoint: Endpoint): void {
    this.#removals.delete(endpoint)
    this.#watcher?.unwatch(endpoint)
    this.#endpoints = this.#endpoints.filter((candidate) => candidate !== endpoint)
    this.generation++
    this.#refresh()
    this.#observer.endpointRemoved(this, endpoint)
    void endpoint.close()
  }

  #refresh(): void {
    const healthy = this.#endpoints.filter((endpoint) => endpoint.available)
    const eligible = this.#endpoints.filter((endpoint) => endpoint.panicEligible && endpoint.checkState !== 'pending')
    const panic = eligible.length > 0 && healthy.length * 100 < eligible.length * this.config.passiveHealth.panicThreshold
    this.#usable = panic ? eligible : healthy
    if (panic !== this.#panic) {
      this.#panic = panic
      this.#observer.panicChanged(this, panic, healthy.length, eligible.length)
    }
  }
}
