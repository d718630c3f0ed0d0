/**
 * @module When a failed attempt may be tried again, and where (nginx `proxy_next_upstream`, Caddy
 * `tryAgain`): pure functions of the request's shape, the failure and the pool, so each rule is
 * tested on its own. The exchange (exchange.ts) asks them, then spends the pool's retry budget last.
 *
 * - A failure before the request reached a connection (connect refused/timeout, TLS) is retried on
 *   another endpoint for any method; a reset after sending, before any response byte, only for safe
 *   bodiless methods; nothing after response bytes reached the client.
 * - A request body is never read twice: a streamed body that was started cannot be replayed, and a
 *   request with a body is retried only when nothing was sent (never send a POST twice).
 * - A status in `retry.onStatus` is retried only for safe bodiless methods.
 * - With no other usable, untried endpoint the client gets the failure itself (502/504 naming the
 *   cause), not a 503 ERR_NO_ENDPOINT that hides it.
 * - An `onUnavailable: fail` session whose own endpoint failed stays put (503 ERR_SESSION_UNAVAILABLE).
 */
import type { Readable } from 'node:stream'
import type { AffinityOutcome, SessionLookup } from '../affinity/session-affinity.js'
import type { PassiveFailureKind } from '../config/health-schema.js'
import type { ErrorCode, ProxyError } from '../errors/proxy-error.js'
import type { Endpoint } from '../upstream/endpoint.js'
import { AttemptPhase, isConnectFailure } from './upstream-errors.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])

/** True for methods that may be sent twice (RFC 9110 §9.2.1 safe methods). */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method)
}

/** Passive health: the kind of failure an upstream error is, or undefined when it is not of the endpoint's making. */
export function failureKind(code: ErrorCode): PassiveFailureKind | undefined {
  if (code === 'ERR_UPSTREAM_CONNECT' || code === 'ERR_UPSTREAM_TLS') return 'connect'
  if (code === 'ERR_UPSTREAM_TIMEOUT') return 'timeout'
  if (code === 'ERR_UPSTREAM_RESET' || code === 'ERR_UPSTREAM_RESPONSE') return 'reset'
  return undefined
}

/** Whether an attempt that failed with `failure` at `phase` may be sent again, given the request's method and body. */
export function isRetryableFailure(failure: ProxyError, phase: AttemptPhase, method: string, body: Readable | Buffer | null): boolean {
  // A body stream that was started cannot be replayed (a body read whole before dispatch could, but
  // only failures before sending are retried for requests with a body).
  if (body !== null && (phase !== AttemptPhase.Connecting || (!Buffer.isBuffer(body) && body.readableDidRead))) return false
  if (isConnectFailure(failure, phase)) return true
  // Latch out of a resource while connecting: nothing was sent, another endpoint may take it.
  if (phase === AttemptPhase.Connecting && failure.code === 'ERR_PROXY_RESOURCES') return true
  return phase === AttemptPhase.Sent && failure.code === 'ERR_UPSTREAM_RESET' && body === null && isSafeMethod(method)
}

/**
 * Whether an attempt stopped by the route's `timeouts.backendRequest` may be sent again (routes with
 * `retry` only): like a reset, only a safe method without a body, since the endpoint may have acted.
 */
export function isRetryableTimeout(failure: ProxyError, phase: AttemptPhase, method: string, body: Readable | Buffer | null): boolean {
  return phase === AttemptPhase.Sent && failure.code === 'ERR_UPSTREAM_TIMEOUT' && body === null && isSafeMethod(method)
}

/**
 * Whether an upgrade (WebSocket, h2c) that failed with `failure` at `phase` may be tried at another
 * endpoint: only when the connection to the endpoint was never made, so nothing reached it. After
 * that, the endpoint may have acted on the handshake (and the client's bytes after the head wait
 * in its socket), so the failure is answered.
 */
export function isRetryableUpgradeFailure(failure: ProxyError, phase: AttemptPhase): boolean {
  return phase === AttemptPhase.Connecting && isRetryableFailure(failure, phase, 'GET', null)
}

/** Whether an answer with `status` may be dropped and the request tried elsewhere. */
export function isRetryableStatus(status: number, onStatus: readonly number[], method: string, hasBody: boolean): boolean {
  return onStatus.length !== 0 && onStatus.includes(status) && !hasBody && isSafeMethod(method)
}

/** What the retry rules read of a pool. */
export interface RetryCandidates {
  readonly endpoints: readonly Endpoint[]
  isUsable(endpoint: Endpoint): boolean
}

/** Whether a usable endpoint other than `current` has not been tried yet (allocates nothing). */
export function untriedEndpointLeft(pool: RetryCandidates, current: Endpoint | undefined, tried: readonly Endpoint[] | undefined): boolean {
  const endpoints = pool.endpoints
  for (let i = 0; i < endpoints.length; i++) {
    const endpoint = endpoints[i] as Endpoint
    if (endpoint !== current && pool.isUsable(endpoint) && tried?.includes(endpoint) !== true) return true
  }
  return false
}

/** True when the request's session is bound to the endpoint that just failed, in an `onUnavailable: fail` pool: it must not move. */
export function sessionMustStay(session: SessionLookup | undefined, outcome: AffinityOutcome | undefined, onUnavailable: 'rebind' | 'fail'): boolean {
  return session?.bindable === true && outcome === 'hit' && onUnavailable === 'fail'
}
