/**
 * @module A named pool of endpoints with its balancing policy and forwarding options.
 */
import { createPolicy } from '../balancing/create-policy.js'
import type { BalancingPolicy } from '../balancing/policy.js'
import type { PoolConfig } from '../config/schema.js'
import { Endpoint } from './endpoint.js'

/** A pool: endpoints, the policy that picks among them, and the options requests to it follow. */
export class UpstreamPool {
  readonly name: string
  readonly config: PoolConfig
  readonly policy: BalancingPolicy
  readonly endpoints: readonly Endpoint[]
  #available: readonly Endpoint[]

  constructor(config: PoolConfig) {
    this.name = config.name
    this.config = config
    this.policy = createPolicy(config.balance)
    this.endpoints = config.endpoints.map((endpoint) => new Endpoint(endpoint, config))
    this.#available = this.endpoints.filter((endpoint) => endpoint.available)
  }

  /** Picks an endpoint for a new request, skipping the ones in `exclude` (already tried). */
  pick(exclude: readonly Endpoint[] | undefined): Endpoint | undefined {
    let candidates = this.#available
    if (exclude !== undefined && exclude.length > 0) candidates = candidates.filter((endpoint) => !exclude.includes(endpoint))
    return candidates.length === 0 ? undefined : this.policy.pick(candidates)
  }

  /** Recomputes the usable set after an endpoint changed state. */
  refreshAvailability(): void {
    this.#available = this.endpoints.filter((endpoint) => endpoint.available)
  }

  /** The Host header sent to `endpoint`, following the pool's `hostHeader` option. */
  hostFor(clientHost: string, endpoint: Endpoint): string {
    const mode = this.config.hostHeader
    if (mode === 'preserve') return clientHost === '' ? endpoint.authority : clientHost
    return mode === 'endpoint' ? endpoint.authority : mode
  }

  /** Endpoint by id, for the admin API and affinity. */
  endpoint(id: string): Endpoint | undefined {
    return this.endpoints.find((endpoint) => endpoint.id === id)
  }

  /** Closes every endpoint's connections. */
  async close(): Promise<void> {
    await Promise.all(this.endpoints.map((endpoint) => endpoint.close()))
  }
}
