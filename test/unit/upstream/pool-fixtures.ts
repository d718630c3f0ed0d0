/**
 * @module Test fixtures for pool-level units: configs parsed by the real schema, a recording observer.
 */
import { ConfigSchema, type ConfigInput, type PoolConfig } from '../../../src/config/schema.js'
import type { Endpoint, EndpointState } from '../../../src/upstream/endpoint.js'
import type { PoolObserver, UpstreamPool } from '../../../src/upstream/upstream-pool.js'

/** One pool's config as the loader would produce it (defaults filled in by the schema). */
export function poolConfig(pool: Omit<ConfigInput['pools'][number], 'name'> & { name?: string }): PoolConfig {
  return ConfigSchema.parse({ pools: [{ name: 'web', ...pool }] }).pools[0] as PoolConfig
}

/** An event a pool reported, with the time it was seen. */
export type PoolEvent =
  | { kind: 'state'; endpoint: string; from: EndpointState; to: EndpointState; reason: string; at: number }
  | { kind: 'ejected'; endpoint: string; durationMs: number; at: number }
  | { kind: 'skipped'; endpoint: string; at: number }
  | { kind: 'panic'; panic: boolean; healthy: number; total: number; at: number }
  | { kind: 'added'; endpoint: string; at: number }
  | { kind: 'removed'; endpoint: string; at: number }

/** A PoolObserver that keeps every event in `events`. */
export class RecordingObserver implements PoolObserver {
  readonly events: PoolEvent[] = []

  endpointStateChanged(_pool: UpstreamPool, endpoint: Endpoint, from: EndpointState, to: EndpointState, reason: string): void {
    this.events.push({ kind: 'state', endpoint: endpoint.id, from, to, reason, at: Date.now() })
  }

  endpointEjected(_pool: UpstreamPool, endpoint: Endpoint, durationMs: number): void {
    this.events.push({ kind: 'ejected', endpoint: endpoint.id, durationMs, at: Date.now() })
  }

  ejectionSkipped(_pool: UpstreamPool, endpoint: Endpoint): void {
    this.events.push({ kind: 'skipped', endpoint: endpoint.id, at: Date.now() })
  }

  panicChanged(_pool: UpstreamPool, panic: boolean, healthy: number, total: number): void {
    this.events.push({ kind: 'panic', panic, healthy, total, at: Date.now() })
  }

  endpointAdded(_pool: UpstreamPool, endpoint: Endpoint): void {
    this.events.push({ kind: 'added', endpoint: endpoint.id, at: Date.now() })
  }

  endpointRemoved(_pool: UpstreamPool, endpoint: Endpoint): void {
    this.events.push({ kind: 'removed', endpoint: endpoint.id, at: Date.now() })
  }

  /** Events of one kind. */
  of<K extends PoolEvent['kind']>(kind: K): Extract<PoolEvent, { kind: K }>[] {
    return this.events.filter((event): event is Extract<PoolEvent, { kind: K }> => event.kind === kind)
  }
}
