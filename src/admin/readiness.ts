/**
 * @module Readiness: whether this instance should get traffic, as `GET /readyz` reports it.
 *
 * Ready means: the config is loaded (true once this object exists), every listener is bound, Latch
 * is not shutting down, and every named check (added later, e.g. a Redis ping) passes.
 */

/** The outcome of one check; `detail` says why it failed (or anything worth showing). */
export interface CheckOutcome {
  readonly ok: boolean
  readonly detail?: string
}

/** A named readiness check; may be async. A throw, a rejection or a slow answer counts as failed. */
export type ReadinessCheck = () => CheckOutcome | Promise<CheckOutcome>

/** The `/readyz` body. */
export interface ReadinessReport {
  readonly ready: boolean
  readonly details: Readonly<Record<string, CheckOutcome>>
}

/** How long one named check may take before it counts as failed. */
const CHECK_TIMEOUT_MS = 2000

/** Readiness of one proxy instance; `setShuttingDown()` is flipped by graceful shutdown. */
export class Readiness {
  #listening = false
  #shuttingDown = false
  readonly #checks = new Map<string, ReadinessCheck>()

  /** True once shutdown began. */
  get shuttingDown(): boolean {
    return this.#shuttingDown
  }

  /** Marks every listener as bound. */
  setListening(): void {
    this.#listening = true
  }

  /** Marks the instance as shutting down: `/readyz` answers 503 from now on. */
  setShuttingDown(): void {
    this.#shuttingDown = true
  }

  /** Adds a named check (e.g. `redis`); its outcome appears under its name in `details`. */
  addCheck(name: string, check: ReadinessCheck): void {
    if (this.#checks.has(name) || name === 'config' || name === 'listeners' || name === 'shutdown') {
      throw new Error(`readiness check "${name}" is already defined`)
    }
    this.#checks.set(name, check)
  }

  /** Runs every check (concurrently) and reports. */
  async report(): Promise<ReadinessReport> {
    const details: Record<string, CheckOutcome> = {
      config: { ok: true },
      listeners: this.#listening ? { ok: true } : { ok: false, detail: 'listeners are not bound yet' },
      shutdown: this.#shuttingDown ? { ok: false, detail: 'shutting down' } : { ok: true },
    }
    const named = [...this.#checks]
    const outcomes = await Promise.all(named.map(([, check]) => runCheck(check)))
    named.forEach(([name], index) => (details[name] = outcomes[index] as CheckOutcome))
    return { ready: Object.values(details).every((outcome) => outcome.ok), details }
  }
}

async function runCheck(check: ReadinessCheck): Promise<CheckOutcome> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<CheckOutcome>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${CHECK_TIMEOUT_MS} ms` }), CHECK_TIMEOUT_MS)
  })
  try {
    return await Promise.race([Promise.resolve().then(check), timeout])
  } catch (error) {
    return { ok: false, detail: (error as Error).message }
  } finally {
    clearTimeout(timer)
  }
}
