/**
 * @module Reloads with `workers` > 1: the supervisor validates the config file once, then every worker
 * applies exactly that text. An invalid config never reaches a worker, so all keep the old one.
 */
import { readFileSync } from 'node:fs'
import { loadConfigFile, type LoadedConfig } from '../config/load.js'
import { ConfigError } from '../errors/config-error.js'
import { digestOf, type ReloadOutcome, type ReloadTrigger } from '../lifecycle/config-reloader.js'
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
    if (file === undefined) return this.#done(trigger, { ok: false, code: 'NO_CONFIG_FILE', message: 'Latch runs in quick mode, from the command line: there is no config file to reload', issues: [] })
    const text = readOrUndefined(file)
    let loaded: LoadedConfig
    try {
      // Unreadable: loadConfigFile reads again and reports why, like at start.
      loaded = loadConfigFile(file, process.env, text)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      return this.#done(trigger, { ok: false, code: 'CONFIG_INVALID', message: `config rejected, the previous config keeps serving:\n${error.message}`, issues: error.issues })
    }
    const digest = digestOf(file, loaded)
    // File watchers fire more than once per save: an unchanged file is not a reload.
    if (trigger === 'file' && digest === this.#digest) return { ok: true, changes: [] }
    const workers = this.#deps.workers()
    const settled = await Promise.allSettled(workers.map(({ rpc }) => rpc.request('reload', { trigger, text }, APPLY_TIMEOUT_MS)))
    this.#applied = { loaded, text }
    this.#digest = digest
    const failures: string[] = []
    let changes: readonly string[] = []
    settled.forEach((result, index) => {
      const slot = (workers[index] as LiveWorker).slot
      if (result.status === 'rejected') failures.push(`worker ${slot}: ${(result.reason as Error).message}`)
      else if (!result.value.ok) failures.push(`worker ${slot}: ${result.value.message}`)
      else if (changes.length === 0) changes = result.value.changes
    })
    if (failures.length > 0) return this.#done(trigger, { ok: false, code: 'LISTEN_FAILED', message: failures.join('\n'), issues: [] })
    return this.#done(trigger, { ok: true, changes })
  }

  #done(trigger: ReloadTrigger, outcome: ReloadOutcome): ReloadOutcome {
    const { logger } = this.#deps
    if (outcome.ok) logger.info({ trigger, changes: outcome.changes, workers: this.#deps.workers().length }, 'config reloaded in every worker')
    else logger.error({ trigger, code: outcome.code, issues: outcome.issues.length }, outcome.message)
    this.#deps.onOutcome(outcome)
    return outcome
  }
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}
