/**
 * @module Sticky sessions for upgrade requests (WebSocket): the session step (session-step.ts) a
 * plain request takes, so a WebSocket opened after a cookie-bound HTTP request, or from a bound
 * client IP, reaches the session's endpoint.
 *
 * Tunnels take no request slots, so the bound endpoint is used whatever its load. The headers the
 * session adds (Set-Cookie, the token header, X-Latch-Affinity) go on the upgrade's response, the
 * 101 included: Socket.IO and SignalR may open a WebSocket as their very first request.
 */
import type { IncomingMessage } from 'node:http'
import type { AffinityOutcome, SessionLookup } from '../affinity/session-affinity.js'
import { ProxyError } from '../errors/proxy-error.js'
import type { MaybePromise } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolTarget } from './pool-target.js'
import type { PreparedRequest } from './request-headers.js'
import { commitSession, resolveSession, type SessionRequest } from './session-step.js'

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

function pickAny({ pool }: PoolTarget): Endpoint | ProxyError {
  // Tunnels do not take request slots, so request limits do not apply to them.
  const endpoint = pool.pick(undefined, true) as Endpoint | undefined
  return endpoint ?? new ProxyError('ERR_NO_ENDPOINT', `no available endpoint in pool "${pool.name}"`)
}
