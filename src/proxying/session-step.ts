/**
 * @module The session step, once for every kind of request: lookup → verdict → bind → commit →
 * outcome header.
 *
 * Plain requests (exchange.ts) take the steps one by one, because between them they may queue for a
 * slot or retry; upgrades (upgrade-affinity.ts) and the unit tests pick once and take the whole step
 * through `resolveSession`. Either way the verdict, the outcome and the headers come from here.
 *
 * `onUnavailable: fail` (decided once, README "When the bound endpoint is unavailable, draining or
 * removed"): a session whose endpoint is still in the pool but cannot serve (unhealthy, ejected,
 * stalled, in maintenance) is refused with ERR_SESSION_UNAVAILABLE until the endpoint is back; a
 * draining endpoint still serves its sessions; a session whose endpoint left the pool (removed, past
 * its drain) is rebound, because that endpoint never comes back and refusing would strand the client
 * until the session expired.
 */
import type { AffinityOutcome, AffinityRequest, SessionAffinity, SessionLookup } from '../affinity/session-affinity.js'
import { ProxyError } from '../errors/proxy-error.js'
import { whenReady, type MaybePromise } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolTarget } from './pool-target.js'

/**
 * What a lookup decides before anything is sent: `hit` uses the bound endpoint; `refuse` answers
 * ERR_SESSION_UNAVAILABLE; `rebind` balances anew and moves the session; `pick` balances a request
 * without a usable binding.
 */
export type SessionVerdict = 'hit' | 'refuse' | 'rebind' | 'pick'

/** A request as the session step sees it: its affinity view plus where the step records its results. */
export interface SessionRequest extends AffinityRequest {
  /** The session found by lookup (undefined before it, or without affinity). */
  session: SessionLookup | undefined
  /** The outcome reported in X-Latch-Affinity, the access log and metrics. */
  affinityOutcome: AffinityOutcome | undefined
}

export function sessionVerdict(lookup: SessionLookup, onUnavailable: 'rebind' | 'fail'): SessionVerdict {
  const bound = lookup.bound
  if (bound !== undefined && bound.servesBoundSessions) return 'hit'
  // `fail` waits for the session's endpoint to come back; one that left the pool (removed, past its
  // drain) never will, so its sessions are rebound rather than refused until they expire.
  if (bound !== undefined && onUnavailable === 'fail') return 'refuse'
  return bound !== undefined || lookup.boundGone ? 'rebind' : 'pick'
}

/** The outcome of a `pick`: why there was no binding, `new` when one will be made, else none. */
export function pickOutcome(lookup: SessionLookup): AffinityOutcome | undefined {
  return lookup.problem ?? (lookup.bindable ? 'new' : undefined)
}

/** Records `lookup` on the request, decides its verdict and sets the outcome that goes with it. */
export function decideSession(target: PoolTarget, request: SessionRequest, lookup: SessionLookup): SessionVerdict {
  request.session = lookup
  const verdict = sessionVerdict(lookup, target.pool.config.affinity.onUnavailable)
  request.affinityOutcome = verdict === 'hit' ? 'hit' : verdict === 'rebind' ? 'rebound' : verdict === 'pick' ? pickOutcome(lookup) : undefined
  return verdict
}

/** The answer to a session refused by `onUnavailable: fail`. */
export function sessionUnavailable(target: PoolTarget): ProxyError {
  return new ProxyError('ERR_SESSION_UNAVAILABLE', `the session's endpoint in pool "${target.pool.name}" is unavailable`, { retryAfter: 5 })
}

/**
 * Makes `picked` the session's endpoint (when the request carries something to bind). Resolves to
 * the endpoint to use: another replica may have bound the session first.
 */
export function bindSession(affinity: SessionAffinity, request: SessionRequest, picked: Endpoint, rebinding: boolean): MaybePromise<Endpoint> {
  const lookup = request.session
  if (lookup === undefined || !lookup.bindable) return picked
  return affinity.bind(lookup, picked, request, rebinding)
}

/**
 * The response from `endpoint` is going out: adds the headers that carry the session (Set-Cookie,
 * token header) and, with `responseHeader`, X-Latch-Affinity, to `out`.
 */
export function commitSession(target: PoolTarget, request: SessionRequest, endpoint: Endpoint, out: string[]): void {
  const affinity = target.affinity
  const lookup = request.session
  if (affinity === undefined || lookup === undefined) return
  affinity.commit(lookup, endpoint, request.affinityOutcome, request, out)
  if (target.pool.config.affinity.responseHeader && request.affinityOutcome !== undefined) out.push('x-latch-affinity', request.affinityOutcome)
}

/**
 * The whole step up to the send, for a request that picks once and waits for no slot (upgrades,
 * unit tests): the bound endpoint when it can serve, else `pick()`'s endpoint, which becomes the
 * session's binding (or ERR_SESSION_UNAVAILABLE, see above). A failing store degrades to no affinity.
 */
export function resolveSession(target: PoolTarget, request: SessionRequest, pick: () => Endpoint | ProxyError): MaybePromise<Endpoint | ProxyError> {
  const affinity = target.affinity
  if (affinity === undefined) return pick()
  let lookup: MaybePromise<SessionLookup>
  try {
    lookup = affinity.lookup(request)
  } catch {
    return pick()
  }
  const chosen = whenReady(lookup, (found): MaybePromise<Endpoint | ProxyError> => {
    const verdict = decideSession(target, request, found)
    if (verdict === 'hit') return found.bound as Endpoint
    if (verdict === 'refuse') return sessionUnavailable(target)
    const picked = pick()
    if (picked instanceof ProxyError) return picked
    return bindSession(affinity, request, picked, verdict === 'rebind')
  })
  return chosen instanceof Promise ? chosen.catch(() => pick()) : chosen
}
