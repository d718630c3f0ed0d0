/**
 * @module The log timestamp (ISO 8601, milliseconds, UTC) without a Date per line.
 *
 * Under load many lines share a millisecond and nearly all share a second, so the text is cached per
 * millisecond and its date-and-seconds part per second.
 */

/** "000" … "999". */
const MILLIS = Array.from({ length: 1000 }, (_, ms) => String(ms).padStart(3, '0'))

/** Formats `Date.now()` as `new Date().toISOString()` would, from a cache. */
export class IsoClock {
  #lastMs = -1
  #lastText = ''
  #second = -1
  #secondPrefix = ''

  /** The current time, e.g. `2026-12-07T19:44:48.123Z`. */
  now(): string {
    const ms = Date.now()
    if (ms === this.#lastMs) return this.#lastText
    const second = Math.floor(ms / 1000)
    if (second !== this.#second) {
      this.#second = second
      // "2026-12-07T19:44:48." — the part that changes once a second.
      this.#secondPrefix = new Date(second * 1000).toISOString().slice(0, 20)
    }
    this.#lastMs = ms
    this.#lastText = `${this.#secondPrefix}${MILLIS[ms - second * 1000]}Z`
    return this.#lastText
  }
}
