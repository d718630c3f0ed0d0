/**
 * @module One timer for every request body being received: checks deadlines and minimum rates.
 *
 * A timer per upload would cost an allocation and a timer-list insertion per POST; instead every
 * watched upload sits in one Set that a single unref'd interval sweeps while the Set is not empty
 * (like Node's own `connectionsCheckingInterval` for headersTimeout). Deadlines are therefore
 * enforced within one tick, which is far finer than the seconds they are configured in.
 */

/** An upload under watch: `check` returns false once it needs no more checks (done or cut). */
export interface WatchedUpload {
  check(now: number): boolean
}

/** Milliseconds since an arbitrary origin (performance.now by default; tests pass their own). */
export type Clock = () => number

/** Longest and shortest sweep period; between them it is a fifth of the shortest watched interval. */
const MAX_TICK_MS = 1000
const MIN_TICK_MS = 20

/** The sweep period for uploads whose shortest deadline or window is `shortestMs`. */
export function tickFor(shortestMs: number): number {
  return Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(shortestMs / 5)))
}

/** Sweeps the uploads it holds every `tickMs` while it holds any. */
export class UploadWatch {
  readonly clock: Clock
  readonly #watched = new Set<WatchedUpload>()
  readonly #tickMs: number
  #timer: NodeJS.Timeout | undefined

  constructor(tickMs: number, clock: Clock = () => performance.now()) {
    this.#tickMs = tickMs
    this.clock = clock
  }

  get size(): number {
    return this.#watched.size
  }

  add(upload: WatchedUpload): void {
    this.#watched.add(upload)
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.sweep(), this.#tickMs)
      this.#timer.unref()
    }
  }

  /** Stops watching `upload`; the timer stops at its next sweep if nothing is left (not here, so a
   * steady trickle of small POSTs, each alone in the watch, does not create a timer per request). */
  delete(upload: WatchedUpload): void {
    this.#watched.delete(upload)
  }

  /** Checks every upload once (the timer calls it; tests call it with their clock). */
  sweep(): void {
    const now = this.clock()
    for (const upload of this.#watched) if (!upload.check(now)) this.#watched.delete(upload)
    if (this.#watched.size === 0) this.#stop()
  }

  #stop(): void {
    if (this.#timer === undefined) return
    clearInterval(this.#timer)
    this.#timer = undefined
  }
}

/**
 * The minimum-rate rule for a streamed body: at least `minBytes` must arrive in every `windowMs`.
 * A window during which Latch itself was not reading (the endpoint pushing back, or the request
 * still waiting for a slot) proves nothing about the client, so it starts over instead of counting.
 */
export class MinRateWindow {
  readonly minBytes: number
  readonly windowMs: number
  #startedAt: number
  #bytesAtStart = 0

  constructor(minBytes: number, windowMs: number, now: number) {
    this.minBytes = minBytes
    this.windowMs = windowMs
    this.#startedAt = now
  }

  /**
   * One observation: `received` bytes so far, and whether Latch was waiting for the client (rather
   * than the client waiting for Latch). Returns false when a full window delivered too little.
   */
  sample(now: number, received: number, waitingForClient: boolean): boolean {
    if (!waitingForClient) return this.#restart(now, received)
    if (now - this.#startedAt < this.windowMs) return true
    if (received - this.#bytesAtStart < this.minBytes) return false
    return this.#restart(now, received)
  }

  #restart(now: number, received: number): true {
    this.#startedAt = now
    this.#bytesAtStart = received
    return true
  }
}
