/**
 * @module The per-request state of a request whose rule (or backend) has filters, timeouts or retry:
 * what the exchange applies after routing (response edits, the Host rewrite, mirrors at dispatch),
 * the `timeouts.request` / `timeouts.backendRequest` timers and the route's retry policy.
 *
 * Allocated only for such requests; the exchange checks `exchange.filtered !== undefined`.
 */
import type { RouteRetry } from '../../routing/route-action.js'
import type { HeaderEdit } from './header-edit.js'
import { sendMirrors, type Mirror, type MirroredRequest } from './mirror.js'

/** What a request takes from a rule's (or backend's) compiled filters (route-filters.ts's RouteFilters). */
export interface RequestFilterSet {
  readonly responseEdits: readonly HeaderEdit[]
  readonly mirrors: readonly Mirror[]
  readonly requestTimeoutMs: number
  readonly backendTimeoutMs: number
  readonly retry: RouteRetry | undefined
}

/** What the timers call back on the exchange. */
export interface TimedRequest extends MirroredRequest {
  readonly hostHeader: string
  /** `timeouts.request` elapsed: answer 504 (or cut the response) and stop the upstream work. */
  routeTimedOut(): void
  /** `timeouts.backendRequest` elapsed for the attempt in flight: abort it (it may be retried). */
  backendTimedOut(): void
  /** The backoff before a retry is over. */
  retryNow(): void
}

function requestTimedOut(request: TimedRequest): void {
  request.routeTimedOut()
}

function attemptTimedOut(request: TimedRequest): void {
  request.backendTimedOut()
}

function backoffOver(request: TimedRequest): void {
  request.retryNow()
}

export class FilteredRequest {
  /** The rule's filters, then the chosen backend's (at most one each). */
  #rule: RequestFilterSet | undefined
  #backend: RequestFilterSet | undefined
  /** URLRewrite `hostname`: the Host sent upstream instead of the pool's choice. */
  upstreamHost: string | undefined
  /** The rule's `retry` (GEP-1731), replacing the pool's `attempts` and `onStatus`. */
  retry: RouteRetry | undefined
  #backendTimeoutMs = 0
  #requestTimer: NodeJS.Timeout | undefined
  #attemptTimer: NodeJS.Timeout | undefined
  #backoffTimer: NodeJS.Timeout | undefined

  /** Takes on `filters` (the rule's first, then the backend's); starts `timeouts.request`. */
  add(filters: RequestFilterSet, request: TimedRequest): void {
    if (this.#rule === undefined) this.#rule = filters
    else this.#backend = filters
    if (filters.retry !== undefined) this.retry = filters.retry
    if (filters.backendTimeoutMs > 0) this.#backendTimeoutMs = filters.backendTimeoutMs
    if (filters.requestTimeoutMs > 0 && this.#requestTimer === undefined) this.#requestTimer = setTimeout(requestTimedOut, filters.requestTimeoutMs, request)
  }

  /** The request was dispatched (once, whatever the retries): sends the mirrors' copies. */
  dispatched(request: TimedRequest): void {
    if (this.#rule !== undefined && this.#rule.mirrors.length > 0) sendMirrors(this.#rule.mirrors, request, request.hostHeader)
    if (this.#backend !== undefined && this.#backend.mirrors.length > 0) sendMirrors(this.#backend.mirrors, request, request.hostHeader)
  }

  /** The response's head is about to be written: applies the response header edits. */
  editResponse(headers: string[]): string[] {
    let out = applyAll(this.#rule?.responseEdits, headers)
    out = applyAll(this.#backend?.responseEdits, out)
    return out
  }

  /** An attempt is being sent: starts `timeouts.backendRequest` for it. */
  attemptStarted(request: TimedRequest): void {
    if (this.#backendTimeoutMs > 0) this.#attemptTimer = setTimeout(attemptTimedOut, this.#backendTimeoutMs, request)
  }

  attemptEnded(): void {
    if (this.#attemptTimer === undefined) return
    clearTimeout(this.#attemptTimer)
    this.#attemptTimer = undefined
  }

  /** Waits the route's retry backoff, if it has one; false when the retry may go now. */
  backoff(request: TimedRequest): boolean {
    const ms = this.retry?.backoffMs ?? 0
    if (ms <= 0) return false
    this.#backoffTimer = setTimeout(backoffOver, ms, request)
    return true
  }

  /** The exchange is over: no timer may fire any more. */
  finished(): void {
    if (this.#requestTimer !== undefined) clearTimeout(this.#requestTimer)
    if (this.#attemptTimer !== undefined) clearTimeout(this.#attemptTimer)
    if (this.#backoffTimer !== undefined) clearTimeout(this.#backoffTimer)
    this.#requestTimer = this.#attemptTimer = this.#backoffTimer = undefined
  }
}

function applyAll(edits: readonly HeaderEdit[] | undefined, headers: string[]): string[] {
  if (edits === undefined) return headers
  let out = headers
  for (const edit of edits) out = edit.apply(out, 0)
  return out
}
