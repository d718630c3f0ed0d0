/**
 * @module A retry budget: retries may add at most a share of recent traffic (Linkerd's model).
 *
 * Requests and retries are counted in ten one-second buckets; a retry is allowed while
 * `retries < budget × requests + minRetriesPerSecond × 10` over that window. A pool whose every
 * endpoint fails therefore sees at most (1 + budget)× its offered load, not (1 + attempts)×.
 */

const BUCKETS = 10

/** Sliding-window retry budget for one pool. */
export class RetryBudget {
  readonly #ratio: number
  readonly #floor: number
  readonly #requests = new Float64Array(BUCKETS)
  readonly #retries = new Float64Array(BUCKETS)
  #second = 0

  constructor(ratio: number, minRetriesPerSecond: number) {
    this.#ratio = ratio
    this.#floor = minRetriesPerSecond * BUCKETS
  }

  /** Counts one new request (not a retry). `nowMs` is a monotonic clock in milliseconds. */
  recordRequest(nowMs: number): void {
    const slot = this.#advance(nowMs)
    this.#requests[slot] = (this.#requests[slot] as number) + 1
  }

  /** Takes a retry from the budget; false when the budget is spent. */
  tryRetry(nowMs: number): boolean {
    const slot = this.#advance(nowMs)
    let requests = 0
    let retries = 0
    for (let i = 0; i < BUCKETS; i++) {
      requests += this.#requests[i] as number
      retries += this.#retries[i] as number
    }
    if (retries >= this.#ratio * requests + this.#floor) return false
    this.#retries[slot] = (this.#retries[slot] as number) + 1
    return true
  }

  #advance(nowMs: number): number {
    const second = Math.floor(nowMs / 1000)
    if (second !== this.#second) {
      const gap = Math.min(second - this.#second, BUCKETS)
      for (let i = 1; i <= gap; i++) {
        const slot = (this.#second + i) % BUCKETS
        this.#requests[slot] = 0
        this.#retries[slot] = 0
      }
      this.#second = second
    }
    return second % BUCKETS
  }
}
