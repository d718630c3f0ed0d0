/**
 * @module Hot reload: validate the whole new config first, then apply it by diff, or keep the old one.
 *
 * Triggers: SIGHUP, a change of the config file (or a manifest it names), `POST /reload`, and the
 * embedding API's `reload` (which may hand over a config validated from an object). Reloads are
 * serialised. An invalid config is rejected with the same messages as at start; the old config keeps
 * serving and the failure is logged, counted and returned. A valid one is applied: new listeners are
 * bound first (a busy port aborts the reload before anything changed), then the runtime is rebuilt
 * around the pools that did not change and swapped in; requests in flight finish on the runtime they
 * started with, and open WebSockets are untouched (tunnels do not belong to a runtime).
 */
import type { SecretRing } from '../affinity/secret-ring.js'
import type { LoadedConfig } from '../config/load.js'
import { StartupError } from '../errors/startup-error.js'
import { AccessLog } from '../observability/access-log.js'
import type { Logger } from '../observability/logger.js'
import type { PoolConfig } from '../config/schema.js'
import type { RuntimeHolder } from '../proxying/handler.js'
import { buildRuntime, retireReplaced, startDiscovery, type RuntimeServices } from '../proxying/runtime.js'
import type { ListenerSet } from '../server/listener-set.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import { digestOf, reloadCandidate, type ReloadOutcome, type ReloadTrigger } from './reload-candidate.js'

/** What the reloader acts on. */
export interface ReloaderDeps {
  /** The config file; undefined in quick mode (nothing to reload). */
  readonly file: string | undefined
  readonly holder: RuntimeHolder
  readonly services: RuntimeServices
  readonly listeners: ListenerSet
  readonly ring: SecretRing
  readonly logger: Logger
  /** Told every outcome (metrics, listeners-changed hooks). */
  readonly onOutcome?: (outcome: ReloadOutcome, trigger: ReloadTrigger) => void
}

/** Applies config reloads one at a time. */
export class ConfigReloader {
  readonly #deps: ReloaderDeps
  #services: RuntimeServices
  #queue: Promise<unknown> = Promise.resolve()
  #appliedDigest: string | undefined

  constructor(deps: ReloaderDeps, startedFrom: LoadedConfig) {
    this.#deps = deps
    this.#services = deps.services
    this.#appliedDigest = deps.file === undefined ? undefined : digestOf(deps.file, startedFrom)
  }

  /**
   * Reloads (after any reload already running); never rejects. `next` is the config file's content
   * as a supervisor already validated it (worker processes), applied as given, never skipped; or a
   * config the caller validated (the embedding API), applied without reading the file.
   */
  reload(trigger: ReloadTrigger, next?: string | LoadedConfig): Promise<ReloadOutcome> {
    const queued = this.#queue.then(() => this.#reload(trigger, next))
    this.#queue = queued.catch(() => undefined)
    return queued
  }

  async #reload(trigger: ReloadTrigger, next: string | LoadedConfig | undefined): Promise<ReloadOutcome> {
    const { file, logger, holder } = this.#deps
    const [text, given] = typeof next === 'object' ? [undefined, next] : [next, undefined]
    // A worker given its supervisor's text applies it as given, never skipped as unchanged.
    const candidate = reloadCandidate({ file, running: holder.runtime.loaded.config, appliedDigest: this.#appliedDigest, text, given, skipUnchanged: trigger === 'file' && next === undefined })
    if (candidate.kind === 'rejected') return this.#done(trigger, candidate.outcome)
    if (candidate.kind === 'unchanged') return { ok: true, changes: [] }
    const { loaded, digest } = candidate
    let changes: string[]
    try {
      changes = await this.#deps.listeners.apply(loaded.config)
    } catch (error) {
      if (!(error instanceof StartupError)) throw error
      return this.#done(trigger, { ok: false, code: error.code === 'TLS_CERTIFICATE' ? 'CONFIG_INVALID' : 'LISTEN_FAILED', message: `${error.message}; the previous config keeps serving`, issues: [] })
    }
    changes.push(...this.#swap(loaded))
    this.#appliedDigest = digest
    for (const warning of loaded.warnings) logger.warn(warning)
    return this.#done(trigger, { ok: true, changes })
  }

  /** Builds the new runtime around the old one and swaps it in. */
  #swap(loaded: LoadedConfig): string[] {
    const { holder, ring } = this.#deps
    const previous = holder.runtime
    const before = previous.loaded.config
    const after = loaded.config
    const changes: string[] = []
    if (after.log.access !== before.log.access || JSON.stringify(after.log.accessFormat) !== JSON.stringify(before.log.accessFormat)) {
      previous.accessLog.flush()
      this.#services = { ...this.#services, accessLog: AccessLog.fromConfig(after.log) }
      changes.push(after.log.access === before.log.access ? `access log format now ${JSON.stringify(after.log.accessFormat)}` : `access log now goes to ${after.log.access}`)
    }
    if (after.sessionSecrets.length > 0 && JSON.stringify(after.sessionSecrets) !== JSON.stringify(before.sessionSecrets)) {
      ring.replace(after.sessionSecrets)
      changes.push('session secrets replaced')
    }
    if (JSON.stringify(after.admin) !== JSON.stringify(before.admin)) changes.push('admin settings change only on restart (ignored)')
    if (after.workers !== before.workers) changes.push('workers changes only on restart (ignored)')
    if (JSON.stringify([after.tracing.otlp, after.tracing.serviceName]) !== JSON.stringify([before.tracing.otlp, before.tracing.serviceName])) changes.push('tracing.otlp and tracing.serviceName change only on restart (ignored)')
    const next = buildRuntime(loaded, this.#services, previous)
    holder.runtime = next
    void startDiscovery(next, previous)
    retireReplaced(previous, next)
    changes.push(...poolChanges(before.pools, after.pools, previous.pools, next.pools))
    return changes
  }

  #done(trigger: ReloadTrigger, outcome: ReloadOutcome): ReloadOutcome {
    const { logger } = this.#deps
    if (outcome.ok) logger.info({ trigger, changes: outcome.changes }, 'config reloaded')
    else logger.error({ trigger, code: outcome.code, issues: outcome.issues.length }, outcome.message)
    this.#deps.onOutcome?.(outcome, trigger)
    return outcome
  }
}

function poolChanges(before: readonly PoolConfig[], after: readonly PoolConfig[], previous: ReadonlyMap<string, UpstreamPool>, next: ReadonlyMap<string, UpstreamPool>): string[] {
  const changes: string[] = []
  for (const config of after) {
    const old = before.find((candidate) => candidate.name === config.name)
    if (old === undefined) changes.push(`pool ${config.name} added`)
    else if (previous.get(config.name) !== next.get(config.name)) changes.push(`pool ${config.name} rebuilt (settings changed; endpoints with unchanged connection settings kept)`)
    else if (JSON.stringify(old.endpoints) !== JSON.stringify(config.endpoints)) changes.push(`pool ${config.name}: endpoints updated`)
  }
  for (const config of before) if (!next.has(config.name)) changes.push(`pool ${config.name} removed (draining)`)
  return changes
}
