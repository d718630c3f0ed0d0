/**
 * @module A consecutive-failure circuit breaker: after `threshold` failures in a row it opens, and
 * callers stop waiting on the dependency; a successful probe closes it again.
 */

export type BreakerState = 'closed' | 'open'

/** Counts consecutive failures; `allows` is false while open. */
export class CircuitBreaker {
  readonly #threshold: number
  #state: BreakerState = 'open'
  #failures = 0
  #opened = 0

  /** Starts open: nothing is known to work until the first successful probe. */
  constructor(threshold: number) {
    this.#threshold = threshold
  }

  get state(): BreakerState {
    return this.#state
  }

  /** True while commands may be sent. */
  get allows(): boolean {
    return this.#state === 'closed'
  }

  /** How often it opened (not counting the initial state). */
  get opened(): number {
    return this.#opened
  }

  /** A command succeeded. */
  success(): void {
    this.#failures = 0
  }

  /** A command failed; true when this failure opened the breaker. */
  failure(): boolean {
    this.#failures++
    return this.#failures >= this.#threshold && this.trip()
  }

  /** Opens now (the connection was lost); true when it was closed. */
  trip(): boolean {
    if (this.#state === 'open') return false
    this.#state = 'open'
    this.#opened++
    return true
  }

  /** A probe succeeded: closes; true when it was open. */
  reset(): boolean {
    this.#failures = 0
    if (this.#state === 'closed') return false
    this.#state = 'closed'
    return true
  }
}
