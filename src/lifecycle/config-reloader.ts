/**
 * @module Hot reload: validate the whole new config first, then apply it by diff, or keep the old one.
 *
 * Triggers: SIGHUP, a change of the config file (or a manifest it names), `POST /reload`. Reloads are
 * serialised. An invalid config is rejected with the same messages as at start; the old config keeps
 * serving and the failure is logged, counted and returned. A valid one is applied: new listeners are
 * bound first (a busy port aborts the reload before anything changed), then the runtime is rebuilt
 * around the pools that did not change and swapped in; requests in flight finish on the runtime they
 * started with, and open WebSockets are untouched (tunnels do not belong to a runtime).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { SecretRing } from '../affinity/secret-ring.js'
import { loadConfigFile, type LoadedConfig } from '../config/load.js'
import { ConfigError, type ConfigIssue } from '../errors/config-error.js'
import { StartupError } from '../errors/startup-error.js'
import { AccessLog } from '../observability/access-log.js'
import type { Logger } from '../observability/logger.js'
import type { PoolConfig } from '../config/schema.js'
import type { StoreConfig } from '../config/store-schema.js'
import type { RuntimeHolder } from '../proxying/handler.js'
import { buildRuntime, retireReplaced, startDiscovery, type RuntimeServices } from '../proxying/runtime.js'
import type { ListenerSet } from '../server/listener-set.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'

export type ReloadTrigger = 'signal' | 'file' | 'admin'

/** What a reload did. */
export type ReloadOutcome =
  | { readonly ok: true; readonly changes: readonly string[] }
  | { readonly ok: false; readonly code: 'CONFIG_INVALID' | 'LISTEN_FAILED' | 'NO_CONFIG_FILE'; readonly message: string; readonly issues: readonly ConfigIssue[] }

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
  readonly onOutcome?: (outcome: ReloadOutcome) => void
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
   * Reloads (after any reload already running); never rejects. `text` is the config file's content as
   * a supervisor already validated it (worker processes): it is applied as given, never skipped.
   */
  reload(trigger: ReloadTrigger, text?: string): Promise<ReloadOutcome> {
    const next = this.#queue.then(() => this.#reload(trigger, text))
    this.#queue = next.catch(() => undefined)
    return next
  }

  async #reload(trigger: ReloadTrigger, text: string | undefined): Promise<ReloadOutcome> {
    const { file, logger } = this.#deps
    if (file === undefined) return this.#done(trigger, { ok: false, code: 'NO_CONFIG_FILE', message: 'Latch runs in quick mode, from the command line: there is no config file to reload', issues: [] })
    let loaded: LoadedConfig
    try {
      loaded = loadConfigFile(file, process.env, text)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      return this.#done(trigger, { ok: false, code: 'CONFIG_INVALID', message: `config rejected, the previous config keeps serving:\n${error.message}`, issues: error.issues })
    }
    const storeChange = storeChangeOf(this.#deps.holder.runtime.loaded.config.store, loaded.config.store)
    if (storeChange !== undefined) {
      return this.#done(trigger, { ok: false, code: 'CONFIG_INVALID', message: `config rejected, the previous config keeps serving:\n${file}: store: ${storeChange} — the affinity store changes only on restart; restore the running store settings, or restart Latch to apply them`, issues: [{ file, path: 'store', message: `${storeChange} — the store changes only on restart` }] })
    }
    const digest = digestOf(file, loaded)
    // File watchers fire more than once per save: an unchanged file is not a reload.
    if (trigger === 'file' && text === undefined && digest === this.#appliedDigest) return { ok: true, changes: [] }
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
    if (after.log.access !== before.log.access) {
      previous.accessLog.flush()
      this.#services = { ...this.#services, accessLog: new AccessLog(after.log.access) }
      changes.push(`access log now goes to ${after.log.access}`)
    }
    if (after.sessionSecrets.length > 0 && JSON.stringify(after.sessionSecrets) !== JSON.stringify(before.sessionSecrets)) {
      ring.replace(after.sessionSecrets)
      changes.push('session secrets replaced')
    }
    if (JSON.stringify(after.admin) !== JSON.stringify(before.admin)) changes.push('admin settings change only on restart (ignored)')
    if (after.workers !== before.workers) changes.push('workers changes only on restart (ignored)')
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
    this.#deps.onOutcome?.(outcome)
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

/** Identifies the applied inputs: the config file's and manifest files' contents. */
export function digestOf(file: string, loaded: LoadedConfig): string {
  const hash = createHash('sha256')
  for (const path of watchedFiles(file, loaded)) {
    try {
      hash.update(path).update(readFileSync(path))
    } catch {
      hash.update(`${path}: unreadable`)
    }
  }
  return hash.digest('hex')
}

/** The config file and every manifest file it routes with. */
export function watchedFiles(file: string, loaded: LoadedConfig): string[] {
  return [...new Set([file, ...loaded.routeSources.flatMap((source) => (source.path === undefined ? [] : [source.path]))])]
}

/** What differs between the running and the reloaded `store` settings, or undefined (secrets are not named). */
export function storeChangeOf(running: StoreConfig, next: StoreConfig): string | undefined {
  if (JSON.stringify(running) === JSON.stringify(next)) return undefined
  if (running.type !== next.type) return `type changed from ${running.type} to ${next.type}`
  const keys = [...new Set([...Object.keys(running), ...Object.keys(next)])].filter((key) => JSON.stringify(running[key as keyof StoreConfig]) !== JSON.stringify(next[key as keyof StoreConfig]))
  return `${keys.join(', ')} changed`
}
