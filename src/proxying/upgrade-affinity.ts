/**
 * @module Sticky sessions for upgrade requests (WebSocket): the same lookup → (hit | pick + bind) →
 * commit steps as a plain request (exchange.ts), so a WebSocket opened after a cookie-bound HTTP
 * request, or from a bound client IP, reaches the session's endpoint.
 *
 * Tunnels take no request slots, so the bound endpoint is used whatever its load. The headers the
 * session adds (Set-Cookie, the token header, X-Latch-Affinity) go on the upgrade's response, the
 * 101 included: Socket.IO and SignalR may open a WebSocket as their very first request.
 */
import type { IncomingMessage } from 'node:http'
import { pickOutcome, sessionVerdict, type AffinityOutcome, type AffinityRequest, type SessionAffinity, type SessionLookup } from '../affinity/session-affinity.js'
import { ProxyError } from '../errors/proxy-error.js'
import { whenReady, type MaybePromise } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import type { PreparedRequest } from './request-headers.js'

/** The affinity view of an upgrade request (what exchange.ts implements for plain requests). */
export class UpgradeSession implements AffinityRequest {
  readonly req: IncomingMessage
  readonly clientIp: string
  readonly cookieHeader: string | undefined
  readonly secure: boolean
  readonly target: string
  readonly logPath: string
  readonly #prepared: PreparedRequest
  lookup: SessionLookup | undefined
  outcome: AffinityOutcome | undefined

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
  commit(pool: UpstreamPool, endpoint: Endpoint, rawHeaders: readonly string[]): string[] {
    const affinity = pool.affinity
    const out: string[] = []
    if (affinity === undefined || this.lookup === undefined) return out
    affinity.commit(this.lookup, endpoint, this.outcome, this, out)
    if (pool.config.affinity.responseHeader && this.outcome !== undefined) out.push('x-latch-affinity', this.outcome)
    affinity.learn?.(rawHeaders.map((value) => Buffer.from(value, 'latin1')), undefined, endpoint, this)
    return out
  }
}

/**
 * The endpoint an upgrade goes to: the session's bound endpoint when it can serve, else a new pick
 * that becomes the session's binding (or, with `onUnavailable: fail`, ERR_SESSION_UNAVAILABLE).
 */
export function pickUpgradeEndpoint(pool: UpstreamPool, session: UpgradeSession): MaybePromise<Endpoint | ProxyError> {
  const affinity = pool.affinity
  if (affinity === undefined) return pickAny(pool)
  let lookup: MaybePromise<SessionLookup>
  try {
    lookup = affinity.lookup(session)
  } catch {
    return pickAny(pool)
  }
  const chosen = whenReady(lookup, (found) => withSession(pool, affinity, session, found))
  // The store failed (it normally degrades by itself): tunnel without affinity rather than fail.
  return chosen instanceof Promise ? chosen.catch(() => pickAny(pool)) : chosen
}

function withSession(pool: UpstreamPool, affinity: SessionAffinity, session: UpgradeSession, lookup: SessionLookup): MaybePromise<Endpoint | ProxyError> {
  session.lookup = lookup
  const verdict = sessionVerdict(lookup, pool.config.affinity.onUnavailable)
  if (verdict === 'hit') {
    session.outcome = 'hit'
    return lookup.bound as Endpoint
  }
  if (verdict === 'refuse') return new ProxyError('ERR_SESSION_UNAVAILABLE', `the session's endpoint in pool "${pool.name}" is unavailable`, { retryAfter: 5 })
  const rebinding = verdict === 'rebind'
  session.outcome = rebinding ? 'rebound' : pickOutcome(lookup)
  const picked = pickAny(pool)
  if (picked instanceof ProxyError || !lookup.bindable) return picked
  return affinity.bind(lookup, picked, session, rebinding)
}

function pickAny(pool: UpstreamPool): Endpoint | ProxyError {
  // Tunnels do not take request slots, so request limits do not apply to them.
  const endpoint = pool.pick(undefined, true) as Endpoint | undefined
  return endpoint ?? new ProxyError('ERR_NO_ENDPOINT', `no available endpoint in pool "${pool.name}"`)
}
