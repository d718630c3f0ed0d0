/**
 * @module Reloads with `workers` > 1: the supervisor validates the config file once (the same
 * validation as one process, reload-candidate.ts), then every worker applies exactly that text. An
 * invalid config never reaches a worker. The new config counts as applied only once every worker
 * accepted it; if one refused, those that had accepted go back to the applied config, so all workers,
 * and a worker restarted later, serve the same one.
 */
import { readFileSync } from 'node:fs'
import type { LoadedConfig } from '../config/load.js'
import { digestOf, reloadCandidate, type ReloadFailure, type ReloadFailureCode, type ReloadOutcome, type ReloadTrigger } from '../lifecycle/reload-candidate.js'
import type { Logger } from '../observability/logger.js'
import type { LiveWorker } from './supervisor.js'

/** How long one worker may take to apply a config (binding new listeners, building pools). */
const APPLY_TIMEOUT_MS = 30_000

/** What the coordinator acts on. */
export interface ClusterReloadDeps {
  /** The config file; undefined in quick mode. */
  readonly file: string | undefined
  readonly workers: () => readonly LiveWorker[]
  readonly logger: Logger
  /** Told every outcome that was not skipped (metrics, watcher). */
  readonly onOutcome: (outcome: ReloadOutcome) => void
}

/** The applied config and the text it came from (what a restarted worker starts with). */
export interface AppliedConfig {
  readonly loaded: LoadedConfig
  readonly text: string | undefined
}

/** Validates once and fans reloads out to every worker, one reload at a time. */
export class ClusterReloader {
  readonly #deps: ClusterReloadDeps
  #applied: AppliedConfig
  #digest: string | undefined
  #queue: Promise<unknown> = Promise.resolve()

  constructor(deps: ClusterReloadDeps, applied: AppliedConfig) {
    this.#deps = deps
    this.#applied = applied
    this.#digest = deps.file === undefined ? undefined : digestOf(deps.file, applied.loaded)
  }

  get applied(): AppliedConfig {
    return this.#applied
  }

  /** Reloads (after any reload already running); never rejects. */
  reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const next = this.#queue.then(() => this.#reload(trigger))
    this.#queue = next.catch(() => undefined)
    return next
  }

  async #reload(trigger: ReloadTrigger): Promise<ReloadOutcome> {
    const { file } = this.#deps
    const text = file === undefined ? undefined : readOrUndefined(file)
    const candidate = reloadCandidate({ file, running: this.#applied.loaded.config, appliedDigest: this.#digest, text, skipUnchanged: trigger === 'file' })
    if (candidate.kind === 'rejected') return this.#done(trigger, candidate.outcome)
    if (candidate.kind === 'unchanged') return { ok: true, changes: [] }
    const workers = this.#deps.workers()
    const results = await applyInEvery(workers, trigger, text)
    const refusals = results.filter((result): result is ReloadFailure => !result.ok)
    if (refusals.length === 0) {
      this.#applied = { loaded: candidate.loaded, text }
      this.#digest = candidate.digest
      const first = results[0]
      return this.#done(trigger, { ok: true, changes: first?.ok === true ? first.changes : [] })
    }
    const accepted = workers.filter((_, index) => results[index]?.ok === true)
    if (accepted.length > 0) {
      const back = await applyInEvery(accepted, trigger, this.#applied.text)
      const stuck = back.flatMap((result, index) => (result.ok ? [] : [`worker ${(accepted[index] as LiveWorker).slot} could not go back to the applied config: ${result.message}`]))
      if (stuck.length > 0) this.#deps.logger.error({ trigger, workers: stuck.length }, stuck.join('\n'))
    }
    // A refusal a worker explains (config, listener) keeps its code; a worker that did not answer is a listen failure.
    const code: ReloadFailureCode = refusals.find((result) => result.code === 'CONFIG_INVALID')?.code ?? 'LISTEN_FAILED'
    const message = `${refusals.map((result) => result.message).join('\n')}\nthe previous config keeps serving in every worker`
    return this.#done(trigger, { ok: false, code, message, issues: refusals.flatMap((result) => result.issues) })
  }

  #done(trigger: ReloadTrigger, outcome: ReloadOutcome): ReloadOutcome {
    const { logger } = this.#deps
    if (outcome.ok) logger.info({ trigger, changes: outcome.changes, workers: this.#deps.workers().length }, 'config reloaded in every worker')
    else logger.error({ trigger, code: outcome.code, issues: outcome.issues.length }, outcome.message)
    this.#deps.onOutcome(outcome)
    return outcome
  }
}

/** Each worker's outcome; a request that failed or timed out counts as a refusal. */
async function applyInEvery(workers: readonly LiveWorker[], trigger: ReloadTrigger, text: string | undefined): Promise<ReloadOutcome[]> {
  const settled = await Promise.allSettled(workers.map(({ rpc }) => rpc.request('reload', { trigger, text }, APPLY_TIMEOUT_MS)))
  return settled.map((result, index) => {
    const slot = (workers[index] as LiveWorker).slot
    if (result.status === 'rejected') return { ok: false, code: 'LISTEN_FAILED' as const, message: `worker ${slot}: ${(result.reason as Error).message}`, issues: [] }
    const outcome = result.value
    return outcome.ok ? outcome : { ...outcome, message: `worker ${slot}: ${outcome.message}` }
  })
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}
