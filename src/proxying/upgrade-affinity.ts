/**
 * @module Sticky sessions for upgrade requests (WebSocket): the session step (session-step.ts) a
 * plain request takes, so a WebSocket opened after a cookie-bound HTTP request, or from a bound
 * client IP, reaches the session's endpoint.
 *
 * Tunnels take no request slots, so the bound endpoint is used whatever its load. The headers the
 * session adds (Set-Cookie, the token header, X-Latch-Affinity) go on the upgrade's response, the
 * 101 included: Socket.IO and SignalR may open a WebSocket as their very first request.
 *
 * A connect that fails (refused, timed out, TLS) is retried on another endpoint under the pool's retry
 * rules, as for plain requests (retry-rules.ts): the session moves with it, except in an
 * `onUnavailable: fail` pool, where a session whose own endpoint failed gets ERR_SESSION_UNAVAILABLE.
 */
import type { IncomingMessage } from 'node:http'
import type { AffinityOutcome, SessionLookup } from '../affinity/session-affinity.js'
import { ProxyError } from '../errors/proxy-error.js'
import type { MaybePromise } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolTarget } from './pool-target.js'
import type { PreparedRequest } from './request-headers.js'
import { isRetryableUpgradeFailure, sessionMustStay, untriedEndpointLeft } from './retry-rules.js'
import { bindSession, commitSession, resolveSession, sessionUnavailable, type SessionRequest } from './session-step.js'
import { AttemptPhase, isConnectFailure } from './upstream-errors.js'

/** The session view of an upgrade request (what exchange.ts implements for plain requests). */
export class UpgradeSession implements SessionRequest {
  readonly req: IncomingMessage
  readonly clientIp: string
  readonly cookieHeader: string | undefined
  readonly secure: boolean
  readonly target: string
  readonly logPath: string
  readonly #prepared: PreparedRequest
  session: SessionLookup | undefined
  affinityOutcome: AffinityOutcome | undefined

  constructor(req: IncomingMessage, prepared: PreparedRequest, target: string, path: string) {
    this.req = req
    this.clientIp = prepared.clientIp
    this.cookieHeader = prepared.cookieHeader
    this.secure = prepared.secure
    this.target = target
    this.logPath = path
    this.#prepared = prepared
  }

  setUpstreamCookie(value: string | undefined): void {
    const prepared = this.#prepared
    if (prepared.cookieIndex === -1) return
    if (value !== undefined) {
      prepared.upstreamHeaders[prepared.cookieIndex] = value
      return
    }
    prepared.upstreamHeaders.splice(prepared.cookieIndex - 1, 2)
    prepared.cookieIndex = -1
  }

  /**
   * Commits the session to `endpoint` once the upstream answered: the response headers the session
   * adds, as a flat name/value list; learn mode also sees the answer's headers.
   */
  commit(target: PoolTarget, endpoint: Endpoint, rawHeaders: readonly string[]): string[] {
    const out: string[] = []
    if (target.affinity === undefined || this.session === undefined) return out
    commitSession(target, this, endpoint, out)
    target.affinity.learn?.(rawHeaders.map((value) => Buffer.from(value, 'latin1')), undefined, endpoint, this)
    return out
  }
}

/**
 * The endpoint an upgrade goes to: the session's bound endpoint when it can serve, else a new pick
 * that becomes the session's binding (or, with `onUnavailable: fail`, ERR_SESSION_UNAVAILABLE).
 */
export function pickUpgradeEndpoint(target: PoolTarget, session: UpgradeSession): MaybePromise<Endpoint | ProxyError> {
  return resolveSession(target, session, () => pickAny(target))
}

/**
 * Where an upgrade goes after its connect to the last of `tried` failed with `failure`: another
 * endpoint (the session, if any, now bound to it), ERR_SESSION_UNAVAILABLE for a session that must
 * stay, or undefined when the failure itself is the answer (not retryable, attempts or retry budget
 * spent, no untried endpoint left).
 */
export function retryUpgradeEndpoint(target: PoolTarget, session: UpgradeSession, failure: ProxyError, tried: readonly Endpoint[]): MaybePromise<Endpoint | ProxyError> | undefined {
  const pool = target.pool
  const phase = AttemptPhase.Connecting
  if (isConnectFailure(failure, phase) && sessionMustStay(session.session, session.affinityOutcome, pool.config.affinity.onUnavailable)) {
    session.affinityOutcome = undefined
    return sessionUnavailable(target)
  }
  if (!isRetryableUpgradeFailure(failure, phase) || tried.length > pool.config.retry.attempts) return undefined
  // Latch out of a resource: a session's own endpoint is not left for it (as for plain requests).
  if (failure.code === 'ERR_PROXY_RESOURCES' && session.affinityOutcome === 'hit') return undefined
  if (!untriedEndpointLeft(pool, undefined, tried) || !pool.retryBudget.tryRetry(performance.now())) return undefined
  const picked = pool.pick(tried, true)
  if (picked === undefined || picked === 'full') return undefined
  pool.retries++
  const affinity = target.affinity
  if (affinity === undefined || session.session?.bindable !== true) return picked
  // The session's endpoint failed: it moves, once, to the retry's endpoint.
  const rebinding = session.affinityOutcome === 'hit'
  if (rebinding) session.affinityOutcome = 'rebound'
  const bound = bindSession(affinity, session, picked, rebinding)
  return bound instanceof Promise ? bound.catch(() => picked) : bound
}

function pickAny({ pool }: PoolTarget): Endpoint | ProxyError {
  // Tunnels do not take request slots, so request limits do not apply to them.
  const endpoint = pool.pick(undefined, true) as Endpoint | undefined
  return endpoint ?? new ProxyError('ERR_NO_ENDPOINT', `no available endpoint in pool "${pool.name}"`)
}
