/**
 * @module One upstream endpoint: its identity, its keep-alive connection pool and its live counters.
 */
import { Pool } from 'undici'
import type { EndpointConfig, PoolConfig } from '../config/schema.js'
import { endpointIdOf } from './endpoint-id.js'

/** An endpoint of a pool; owns one undici Pool (keep-alive connections to its origin). */
export class Endpoint {
  /** Stable identity, `host:port`; the same on every replica that sees the same endpoint. */
  readonly id: string
  readonly url: URL
  /** `host:port` as sent in `Host` when the pool rewrites it to the endpoint. */
  readonly authority: string
  readonly weight: number
  readonly dispatcher: Pool
  /** Requests currently being proxied to this endpoint (read by least-request). */
  inflight = 0
  /** Requests this endpoint has been sent since start. */
  total = 0
  /** Upgraded connections (WebSocket tunnels) currently open to this endpoint. */
  upgraded = 0

  constructor(config: EndpointConfig, pool: PoolConfig) {
    this.url = new URL(config.url)
    this.id = endpointIdOf(this.url)
    this.authority = this.url.host
    this.weight = config.weight
    const { timeouts, limits } = pool
    this.dispatcher = new Pool(this.url.origin, {
      connections: limits.maxConnectionsPerEndpoint,
      pipelining: 1,
      keepAliveTimeout: timeouts.keepAlive,
      keepAliveMaxTimeout: timeouts.keepAlive,
      headersTimeout: timeouts.responseHeaders,
      bodyTimeout: timeouts.bodyIdle,
      connectTimeout: timeouts.connect,
      strictContentLength: true,
    })
  }

  /** True when the endpoint may receive new requests. */
  get available(): boolean {
    return true
  }

  /** Closes idle connections and waits for in-flight requests on them. */
  close(): Promise<void> {
    return this.dispatcher.close()
  }

  /** Destroys every connection at once (shutdown deadline). */
  destroy(): Promise<void> {
    return this.dispatcher.destroy()
  }
}
