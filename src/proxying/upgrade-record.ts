/**
 * @module One upgrade (WebSocket, h2c…) from its request to the close of its client connection, as a
 * request like any other: its access line is written when the connection closes (duration, bytes each
 * way, outcome); the request metrics count it when the upstream answers (the handshake's latency; a
 * tunnel's lifetime would swamp the duration histogram); the endpoint's answer, or failure to
 * connect, counts for passive health.
 */
import type { Socket } from 'node:net'
import type { AffinityOutcome, SessionAffinity } from '../affinity/session-affinity.js'
import type { ProxyError } from '../errors/proxy-error.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import type { PreparedRequest } from './request-headers.js'
import { passiveFailureKind } from './upstream-errors.js'
import type { FinishedRequest, ProxyRuntime } from './runtime.js'

/** How an upgrade ended, in its access line. */
export type UpgradeOutcome =
  /** Not tunnelled: the endpoint answered other than 101, or Latch answered an error. */
  | 'refused'
  /** The client left before any answer. */
  | 'client-aborted'
  /** A tunnel: which side ended it first, or the tunnel timeouts. */
  | 'client-closed'
  | 'upstream-closed'
  | 'idle-timeout'

/** Who ended an accepted tunnel first. */
export type TunnelEnd = 'client-closed' | 'upstream-closed' | 'idle-timeout'

/** The access record of an upgrade; filled in as it goes, written once at the close. */
export class UpgradeRecord implements FinishedRequest {
  readonly method: string
  readonly requestId: string
  readonly hostHeader: string
  readonly clientIp: string
  /** The trace (tracing on), as the access line shows it; '' without one. */
  readonly traceId: string
  readonly spanId: string
  /** The `Upgrade` protocol asked for. */
  readonly upgrade: string
  logPath = ''
  status = 0
  durationMs = 0
  /** Bytes from the upstream to the client: through the tunnel, or the relayed refusal. */
  bytesOut = 0
  /** Bytes from the client to the upstream through the tunnel. */
  bytesIn = 0
  routeDescription: string | undefined
  ruleId: string | undefined
  pool: UpstreamPool | undefined
  /** The pool's affinity, as the route resolved it. */
  affinity: SessionAffinity | undefined
  endpoint: Endpoint | undefined
  attempts = 0
  errorCode: string | undefined
  affinityOutcome: AffinityOutcome | undefined
  outcome: UpgradeOutcome | undefined
  /** An upgrade has no request body to read ahead of the endpoint choice. */
  readonly bufferedBytes = 0
  readonly bodyBufferedWhole = false
  /** A refusal is relayed as the endpoint sent it, so the logged status is the endpoint's. */
  readonly upstreamStatus = undefined
  readonly #runtime: ProxyRuntime
  readonly #startedAt = performance.now()
  #counted = false
  #upstream: Socket | undefined
  #readAtUpgrade = 0
  #writtenAtUpgrade = 0

  constructor(runtime: ProxyRuntime, method: string, upgrade: string, prepared: PreparedRequest) {
    this.#runtime = runtime
    this.method = method
    this.upgrade = upgrade
    this.requestId = prepared.requestId
    this.hostHeader = prepared.hostHeader
    this.clientIp = prepared.clientIp
    this.traceId = prepared.traceId ?? ''
    this.spanId = prepared.spanId ?? ''
  }

  get poolName(): string | undefined {
    return this.pool?.name
  }

  get endpointId(): string | undefined {
    return this.endpoint?.id
  }

  /** The upstream answered the upgrade (101 or not). */
  answered(status: number): void {
    this.status = status
    if (status !== 101) this.outcome = 'refused'
    const endpoint = this.endpoint
    if (endpoint !== undefined) {
      const outliers = (this.pool as UpstreamPool).outliers
      if (status >= 500) outliers.recordFailure(endpoint, '5xx')
      else outliers.recordSuccess(endpoint)
    }
    this.#count()
  }

  /** Latch answered an error instead (`endpointAtFault`: a failure of the endpoint's making, for passive health). */
  failed(error: ProxyError, endpointAtFault: boolean): void {
    this.status = error.status
    this.errorCode = error.code
    this.outcome = 'refused'
    if (endpointAtFault) this.attemptFailed(error)
  }

  /** The attempt at the current endpoint failed with `error` (counted for passive health); the upgrade may go on elsewhere. */
  attemptFailed(error: ProxyError): void {
    const endpoint = this.endpoint
    if (endpoint === undefined) return
    endpoint.errors[error.code] = (endpoint.errors[error.code] ?? 0) + 1
    const kind = passiveFailureKind(error)
    if (kind !== undefined) (this.pool as UpstreamPool).outliers.recordFailure(endpoint, kind)
  }

  /** The tunnel is open: bytes are counted on its upstream socket from here (`head`: bytes that came with the 101). */
  tunnelled(upstream: Socket, head: Buffer): void {
    this.#upstream = upstream
    this.#readAtUpgrade = upstream.bytesRead - head.length
    this.#writtenAtUpgrade = upstream.bytesWritten
  }

  /** The first end of an open tunnel. */
  tunnelEnded(end: TunnelEnd): void {
    this.outcome ??= end
  }

  /** The client connection closed: completes the record and writes the access line. */
  closed(client: Socket): void {
    this.durationMs = Math.round((performance.now() - this.#startedAt) * 1000) / 1000
    const upstream = this.#upstream
    if (upstream !== undefined) {
      this.bytesOut = upstream.bytesRead - this.#readAtUpgrade
      this.bytesIn = upstream.bytesWritten - this.#writtenAtUpgrade
    } else {
      this.bytesOut = client.bytesWritten
    }
    if (this.status === 0) {
      this.status = 499
      this.errorCode = 'ERR_CLIENT_ABORTED'
      this.outcome = 'client-aborted'
    }
    this.#count()
    if (this.#runtime.accessLog.enabled) this.#runtime.accessLog.write(this)
  }

  #count(): void {
    if (this.#counted) return
    this.#counted = true
    this.durationMs = Math.round((performance.now() - this.#startedAt) * 1000) / 1000
    this.#runtime.requests?.requestFinished(this)
  }
}
