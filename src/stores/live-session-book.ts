/**
 * @module Live-session bookkeeping of a store whose sessions are counted elsewhere (the IPC store:
 * in the supervisor; the Redis store: in Redis): which touches to pass on, in batches, and the
 * counts last fetched per scope.
 *
 * Throttle (one rule for every shared store): a session seen again on the same endpoint is reported
 * again once a tenth of its TTL has passed, and at least once a minute. The shared expiry of a
 * session then trails its real one by at most that interval, so a session in use never drops out of
 * the counts (its shared expiry stays ≥ 90 % of the TTL ahead), and one that stopped is counted gone
 * at most a tenth of its window (at most a minute) early. With the default 30-minute window that is
 * one report per active session per minute, instead of one per second. A move to another endpoint is
 * reported at once.
 */
import { Batch } from './batch.js'

/** One live-session touch: scope, session id, endpoint id, ttl in ms. */
export type Touch = readonly [scope: string, sessionId: string, endpointId: string, ttlMs: number]

/** Session counts are fetched at most this often (the contract allows a second of lag). */
export const COUNTS_MAX_AGE_MS = 1000
/** `liveCountsLagMs` of the stores that keep counts here: cached that long, plus the fetch's round trip. */
export const SHARED_COUNTS_LAG_MS = 2 * COUNTS_MAX_AGE_MS
/** The longest interval between two reports of a session in use. */
const MAX_REPORT_INTERVAL_MS = 60_000

/** A session seen on an endpoint is reported again after this long (see the module comment). */
export function reportInterval(ttlMs: number): number {
  return Math.min(MAX_REPORT_INTERVAL_MS, ttlMs / 10)
}

/** Where the shared counts live. */
export interface LiveSessionTransport {
  /** Passes a batch of touches on; best effort (a lost touch is sent again within one interval). */
  send(touches: Touch[]): void
  /** The counts of `scope` as shared: endpoint id → live sessions. */
  fetch(scope: string): Promise<ReadonlyMap<string, number>>
}

export interface LiveSessionBookOptions {
  /** How long touches gather before they are sent. */
  readonly flushMs: number
  /** The counts of a scope before the first fetch answers. */
  readonly initial?: (scope: string) => ReadonlyMap<string, number>
  readonly now?: () => number
}

interface Counts {
  map: ReadonlyMap<string, number>
  fetchedAt: number
  fetching: boolean
}

const EMPTY: ReadonlyMap<string, number> = new Map()

/** Throttled, batched touches and background-refreshed counts over a transport. */
export class LiveSessionBook {
  readonly #transport: LiveSessionTransport
  readonly #touches: Batch<Touch>
  readonly #initial: (scope: string) => ReadonlyMap<string, number>
  readonly #now: () => number
  /** scope\0session → endpoint last reported and when it is due again. */
  readonly #reported = new Map<string, { endpointId: string; dueAt: number }>()
  readonly #counts = new Map<string, Counts>()

  constructor(transport: LiveSessionTransport, options: LiveSessionBookOptions) {
    this.#transport = transport
    this.#touches = new Batch(options.flushMs, (touches) => transport.send(touches))
    this.#initial = options.initial ?? (() => EMPTY)
    this.#now = options.now ?? Date.now
  }

  /** Records that a session was seen on an endpoint; reports it unless reported recently on the same one. */
  touch(scope: string, sessionId: string, endpointId: string, ttlMs: number): void {
    const id = `${scope}\0${sessionId}`
    const now = this.#now()
    const last = this.#reported.get(id)
    if (last !== undefined && last.endpointId === endpointId && now < last.dueAt) return
    this.#reported.set(id, { endpointId, dueAt: now + reportInterval(ttlMs) })
    this.#touches.push([scope, sessionId, endpointId, ttlMs])
  }

  /** The last counts of `scope`; fetches them again in the background when older than COUNTS_MAX_AGE_MS. */
  counts(scope: string): ReadonlyMap<string, number> {
    const counts = this.#entry(scope)
    if (!counts.fetching && this.#now() - counts.fetchedAt >= COUNTS_MAX_AGE_MS) void this.#fetch(scope, counts)
    return counts.map
  }

  /** Sends pending touches, then fetches the counts of `scope` now (the admin API and tests wait for it). */
  async fetchNow(scope: string): Promise<ReadonlyMap<string, number>> {
    this.#touches.flush()
    const counts = this.#entry(scope)
    await this.#fetch(scope, counts)
    return counts.map
  }

  /** Forgets every fetched count (the shared state was lost or is being rebuilt). */
  forgetCounts(): void {
    this.#counts.clear()
  }

  /** Sends pending touches now. */
  flush(): void {
    this.#touches.flush()
  }

  /** Drops the record of sessions due for a report anyway (runs every few seconds). */
  sweep(): void {
    const now = this.#now()
    for (const [id, reported] of this.#reported) if (now >= reported.dueAt) this.#reported.delete(id)
  }

  #entry(scope: string): Counts {
    let counts = this.#counts.get(scope)
    if (counts === undefined) this.#counts.set(scope, (counts = { map: this.#initial(scope), fetchedAt: 0, fetching: false }))
    return counts
  }

  async #fetch(scope: string, counts: Counts): Promise<void> {
    counts.fetching = true
    try {
      counts.map = await this.#transport.fetch(scope)
      counts.fetchedAt = this.#now()
    } catch {
      // Keep the last counts; the next read tries again.
    } finally {
      counts.fetching = false
    }
  }
}
