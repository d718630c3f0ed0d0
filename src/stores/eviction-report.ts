/**
 * @module Counts what a full memory store dropped, for the metrics, and says so in the log without
 * flooding it: the first eviction at once, then at most one line a minute with the counts since.
 */
import type { Logger } from 'pino'
import type { EvictedKind } from './memory-store.js'

const LOG_EVERY_MS = 60_000

/** Totals by kind, read by `latch_store_evictions_total`. */
export interface EvictionTotals {
  readonly binding: number
  readonly session: number
}

export class EvictionReport implements EvictionTotals {
  binding = 0
  session = 0
  readonly #logger: Logger
  readonly #maxEntries: number
  #loggedAt = -Infinity
  #sinceLog = { binding: 0, session: 0 }

  constructor(logger: Logger, maxEntries: number) {
    this.#logger = logger
    this.#maxEntries = maxEntries
  }

  /** The store's `onEvict`. */
  readonly evicted = (kind: EvictedKind): void => {
    this[kind]++
    this.#sinceLog[kind]++
    const now = Date.now()
    if (now - this.#loggedAt < LOG_EVERY_MS) return
    this.#loggedAt = now
    this.#logger.warn(
      { code: 'STORE_FULL', maxEntries: this.#maxEntries, evictedBindings: this.#sinceLog.binding, evictedSessions: this.#sinceLog.session },
      'affinity store full: dropped the least recently used entries (a dropped binding re-picks its client; a dropped live session only leaves the counts) — raise store.maxEntries if this is legitimate traffic',
    )
    this.#sinceLog = { binding: 0, session: 0 }
  }
}
