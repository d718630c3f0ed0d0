/**
 * @module Least-sessions: new sessions go to the endpoint with the fewest live bound sessions.
 *
 * After a scale-out the new endpoints start with none, so they fill up instead of the old ones
 * keeping every session (ingress-nginx #4093, #5944). In-flight requests count too, so a burst of
 * new sessions spreads before the counts have caught up.
 *
 * A shared store (workers, Redis) reports counts up to about a second old. Until they include this
 * process's own recent picks, every new session would go to the same endpoint; so with `countsLagMs`
 * set, picks of the last `countsLagMs` are added to the counts. (Picks of other processes stay
 * unseen for that long, but each process spreads its own evenly.)
 */
import type { Endpoint } from '../upstream/endpoint.js'
import type { BalancingPolicy } from './policy.js'

/** Times (ms) of recent picks of one endpoint: a queue in an array, read from `head`. */
interface RecentPicks {
  times: number[]
  head: number
}

/** Picks the candidate with the lowest (live sessions + in-flight [+ own recent picks] + 1) / weight. */
export class LeastSessions implements BalancingPolicy {
  /** Live sessions per endpoint id; set by the pool once its affinity exists. */
  counts: () => ReadonlyMap<string, number> = () => new Map()
  /** How far the counts may lag behind this process's picks; 0 when they are live (in-process store). */
  countsLagMs = 0
  #turn = 0
  readonly #recent = new WeakMap<Endpoint, RecentPicks>()

  pick(candidates: readonly Endpoint[]): Endpoint | undefined {
    if (candidates.length === 0) return undefined
    const counts = this.counts()
    const lag = this.countsLagMs
    const now = lag === 0 ? 0 : Date.now()
    let best = candidates[0] as Endpoint
    let bestLoad = Infinity
    const start = this.#turn++ % candidates.length
    for (let offset = 0; offset < candidates.length; offset++) {
      const endpoint = candidates[(start + offset) % candidates.length] as Endpoint
      const recent = lag === 0 ? 0 : this.#recentPicks(endpoint, now - lag)
      // Counted with this session, as least-request counts with this request: weights hold exactly.
      const load = ((counts.get(endpoint.id) ?? 0) + endpoint.inflight + recent + 1) / endpoint.weight
      if (load < bestLoad) {
        bestLoad = load
        best = endpoint
      }
    }
    if (lag !== 0) this.#remember(best, now)
    return best
  }

  /** Picks of `endpoint` made after `since`, dropping older ones. */
  #recentPicks(endpoint: Endpoint, since: number): number {
    const recent = this.#recent.get(endpoint)
    if (recent === undefined) return 0
    const { times } = recent
    while (recent.head < times.length && (times[recent.head] as number) <= since) recent.head++
    if (recent.head > 1024 && recent.head * 2 > times.length) {
      times.splice(0, recent.head)
      recent.head = 0
    }
    return times.length - recent.head
  }

  #remember(endpoint: Endpoint, now: number): void {
    const recent = this.#recent.get(endpoint)
    if (recent === undefined) this.#recent.set(endpoint, { times: [now], head: 0 })
    else recent.times.push(now)
  }
}
