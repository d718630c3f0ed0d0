/**
 * @module At most one log line per interval for a failure that comes in floods (Latch out of file
 * descriptors fails every request at once): the line says how many were left out since the last one.
 */

/** Lets one line through per `intervalMs`; counts the others. */
export class LogThrottle {
  readonly #intervalMs: number
  #nextAt = 0
  #suppressed = 0

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs
  }

  /** The number of lines left out since the last one written, when this one may be written; else undefined. */
  admit(now: number): number | undefined {
    if (now < this.#nextAt) {
      this.#suppressed++
      return undefined
    }
    this.#nextAt = now + this.#intervalMs
    const suppressed = this.#suppressed
    this.#suppressed = 0
    return suppressed
  }
}
