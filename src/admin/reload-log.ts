/**
 * @module The last config reloads, for `GET /overview`: when, what triggered it, and what it did.
 */
import type { ReloadOutcome, ReloadTrigger } from '../lifecycle/reload-candidate.js'

/** Reloads kept. */
export const RELOADS_KEPT = 20

/** One reload as `/overview` shows it. */
export interface ReloadRecord {
  /** ISO 8601. */
  readonly at: string
  readonly trigger: ReloadTrigger
  readonly ok: boolean
  /** What changed (applied reloads). */
  readonly changes?: readonly string[]
  /** Why it was refused: the code and the message naming file, key and problem. */
  readonly error?: string
  readonly message?: string
}

/** The last RELOADS_KEPT reloads, newest first. */
export class ReloadLog {
  readonly #records: ReloadRecord[] = []

  record(trigger: ReloadTrigger, outcome: ReloadOutcome, at = Date.now()): void {
    const when = new Date(at).toISOString()
    this.#records.unshift(outcome.ok ? { at: when, trigger, ok: true, changes: outcome.changes } : { at: when, trigger, ok: false, error: outcome.code, message: outcome.message })
    this.#records.length = Math.min(this.#records.length, RELOADS_KEPT)
  }

  get records(): readonly ReloadRecord[] {
    return [...this.#records]
  }
}
