/**
 * @module The affinity contract: which session a request belongs to, and where that session lives.
 *
 * Affinity is separate from balancing (Envoy's stateful-session split): a mode finds the session and
 * its bound endpoint; only when there is no usable binding does the pool's balancing policy pick, and
 * the mode then records the new binding. proxying/session-step.ts drives the steps in this order:
 * lookup → (hit | pick + bind) → send → commit (→ learn from the response).
 */
import type { IncomingMessage } from 'node:http'
import type { AffinityMode } from '../config/affinity-schema.js'
import type { MaybePromise } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { SessionToken } from './session-token.js'

/** What a response says about the session (`X-Latch-Affinity`, access log, metrics). */
export type AffinityOutcome = 'hit' | 'new' | 'rebound' | 'expired' | 'invalid'

/** What affinity may read of a request (the exchange implements it). */
export interface AffinityRequest {
  readonly req: IncomingMessage
  readonly clientIp: string
  /** The client's Cookie header(s), joined. */
  readonly cookieHeader: string | undefined
  /** TLS, or a trusted peer says https (`X-Forwarded-Proto`, else `Forwarded: proto=`). */
  readonly secure: boolean
  /** Canonical path plus query. */
  readonly target: string
  /** Canonical path. */
  readonly logPath: string
  /** Replaces the Cookie header sent upstream (undefined removes it). */
  setUpstreamCookie(value: string | undefined): void
}

/** The result of looking a request's session up. */
export interface SessionLookup {
  /** The endpoint the session is bound to, if the binding is valid (the endpoint may be unavailable). */
  readonly bound: Endpoint | undefined
  /** A valid binding names an endpoint that left the pool (scaled down, removed). */
  readonly boundGone: boolean
  /** Store-backed modes: the id of that departed endpoint, so a rebind can replace exactly that binding. */
  readonly goneId?: string
  /** Why an existing token or binding was not used. */
  readonly problem: 'expired' | 'invalid' | undefined
  /** Store key of the session (client-ip, learn), when there is one. */
  readonly key: string | undefined
  /** The valid token (cookie, header modes). */
  readonly token: SessionToken | undefined
  /** False when the request carries nothing to bind (learn without a session id, hash without its key). */
  readonly bindable: boolean
}

/** One affinity mode of one pool. */
export interface SessionAffinity {
  readonly mode: AffinityMode
  /** Finds the request's session and its binding. */
  lookup(request: AffinityRequest): MaybePromise<SessionLookup>
  /**
   * Records that the session now uses `picked` (a new session, or a rebind after its endpoint became
   * unavailable). Resolves to the endpoint to use: another replica may have bound it first.
   */
  bind(lookup: SessionLookup, picked: Endpoint, request: AffinityRequest, rebinding: boolean): MaybePromise<Endpoint>
  /**
   * The response from `endpoint` is being sent: adds headers that carry the binding (Set-Cookie,
   * token header) to `out`, and keeps the session alive (sliding lifetimes, live-session counts).
   */
  commit(lookup: SessionLookup, endpoint: Endpoint, outcome: AffinityOutcome | undefined, request: AffinityRequest, out: string[]): void
  /** Learn mode: sees the upstream's response headers (and first body chunk) to learn new session ids. */
  learn?(rawHeaders: readonly Buffer[], firstChunk: Buffer | undefined, endpoint: Endpoint, request: AffinityRequest): void
  /** Learn mode: whether `learn` needs the first body chunk for this request (Socket.IO handshake). */
  wantsFirstChunk?(request: AffinityRequest): boolean
  /** Live sessions per endpoint id (admin API, metrics, least-sessions). */
  sessionCounts(): ReadonlyMap<string, number>
}

/** A lookup that found nothing; `bindable` says whether a new binding can be made. */
export function noSession(bindable: boolean, problem?: 'expired' | 'invalid', key?: string): SessionLookup {
  return { bound: undefined, boundGone: false, problem, key, token: undefined, bindable }
}
