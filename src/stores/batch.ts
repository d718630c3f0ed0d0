/**
 * @module Items gathered for a few milliseconds and sent in one call: one IPC message or one burst
 * of Redis commands per flush instead of one per request.
 */

/** A batch sent `delayMs` after its first item, or on `flush()`. */
export class Batch<T> {
  readonly #delayMs: number
  readonly #send: (items: T[]) => void
  #items: T[] = []
  #timer: NodeJS.Timeout | undefined

  constructor(delayMs: number, send: (items: T[]) => void) {
    this.#delayMs = delayMs
    this.#send = send
  }

  push(item: T): void {
    this.#items.push(item)
    if (this.#timer !== undefined) return
    this.#timer = setTimeout(() => this.flush(), this.#delayMs)
    this.#timer.unref()
  }

  /** Sends what is gathered now (nothing when empty). */
  flush(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#items.length === 0) return
    const items = this.#items
    this.#items = []
    this.#send(items)
  }
}
