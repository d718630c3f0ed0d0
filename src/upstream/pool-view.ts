/**
 * @module What a session may read of a pool: the narrow view affinity modes depend on.
 *
 * Sessions sit above pools (a session may one day span several pools of one route), so an affinity
 * mode sees only a pool's identity and endpoint set, never its balancing, queue or health machinery.
 * `UpstreamPool` implements it; the composition root (proxying/pool-target.ts) hands it to affinity.
 */
import type { Endpoint } from './endpoint.js'

export interface PoolView {
  readonly name: string
  /** Changes whenever endpoints are added or removed (indexes keyed on the endpoint set rebuild). */
  readonly generation: number
  /** Every endpoint, draining ones included. */
  readonly endpoints: readonly Endpoint[]
  /** Endpoints new requests may use (all eligible ones in panic mode). */
  readonly usableEndpoints: readonly Endpoint[]
  /** Endpoint by id, while it is in the pool (draining included). */
  endpoint(id: string): Endpoint | undefined
}

/** Live sessions per endpoint id, as a session layer above the pool reports them (admin API, metrics). */
export type SessionCounts = () => ReadonlyMap<string, number>
