/**
 * @module The validation half of a hot reload, shared by one process and by the `--workers` supervisor:
 * load the file (or the text given), refuse a store change, and tell an unchanged file apart. Applying
 * a valid candidate is the caller's part (ConfigReloader in a process, ClusterReloader fans it out).
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { loadConfigFile, type LoadedConfig } from '../config/load.js'
import type { Config } from '../config/schema.js'
import type { StoreConfig } from '../config/store-schema.js'
import { ConfigError, type ConfigIssue } from '../errors/config-error.js'
import type { ReloadFailureCode, ReloadOutcome, ReloadTrigger } from './outcomes.js'

export type { ReloadFailureCode, ReloadOutcome, ReloadTrigger }

export type ReloadFailure = Extract<ReloadOutcome, { ok: false }>

/** A validated reload, or why there is nothing to apply. */
export type ReloadCandidate =
  | { readonly kind: 'rejected'; readonly outcome: ReloadFailure }
  /** The file watcher fired but the inputs are the ones applied (editors save more than once). */
  | { readonly kind: 'unchanged' }
  /** `digest` is undefined for a config the caller validated (no file behind it). */
  | { readonly kind: 'valid'; readonly loaded: LoadedConfig; readonly digest: string | undefined }

/** What validation looks at. */
export interface ReloadRequest {
  /** The config file; undefined in quick mode. */
  readonly file: string | undefined
  /** The config serving now (its store settings cannot change by reload). */
  readonly running: Config
  /** The digest of the inputs applied last. */
  readonly appliedDigest: string | undefined
  /** The file's text when the caller read it already (the supervisor, or a worker given its text). */
  readonly text?: string | undefined
  /** Skip when the inputs' digest equals `appliedDigest` (file-watcher triggers). */
  readonly skipUnchanged: boolean
  /** A config the caller validated (the embedding API's reload with a config object): used instead of the file. */
  readonly given?: LoadedConfig | undefined
}

const KEEPS_SERVING = 'config rejected, the previous config keeps serving'

/** Validates a reload exactly as start-up validates a config, plus the store-change rule. */
export function reloadCandidate(request: ReloadRequest): ReloadCandidate {
  const { file, given } = request
  let loaded: LoadedConfig
  if (given !== undefined) loaded = given
  else if (file === undefined) return rejected('NO_CONFIG_FILE', 'Latch runs in quick mode, from the command line: there is no config file to reload')
  else {
    try {
      // An unreadable file is read again by loadConfigFile, which says why, as at start.
      loaded = loadConfigFile(file, process.env, request.text)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      return rejected('CONFIG_INVALID', `${KEEPS_SERVING}:\n${error.message}`, error.issues)
    }
  }
  const storeChange = storeChangeOf(request.running.store, loaded.config.store)
  if (storeChange !== undefined) {
    return rejected('CONFIG_INVALID', `${KEEPS_SERVING}:\n${loaded.file}: store: ${storeChange} — the affinity store changes only on restart; restore the running store settings, or restart Latch to apply them`, [
      { file: loaded.file, path: 'store', message: `${storeChange} — the store changes only on restart` },
    ])
  }
  if (given !== undefined) return { kind: 'valid', loaded, digest: undefined }
  const digest = digestOf(loaded.file, loaded)
  if (request.skipUnchanged && digest === request.appliedDigest) return { kind: 'unchanged' }
  return { kind: 'valid', loaded, digest }
}

function rejected(code: ReloadFailureCode, message: string, issues: readonly ConfigIssue[] = []): ReloadCandidate {
  return { kind: 'rejected', outcome: { ok: false, code, message, issues } }
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
  return [...new Set([file, ...[...loaded.routeSources, ...loaded.httpRouteSources].flatMap((source) => (source.path === undefined ? [] : [source.path]))])]
}

/** What differs between the running and the reloaded `store` settings, or undefined (secrets are not named). */
export function storeChangeOf(running: StoreConfig, next: StoreConfig): string | undefined {
  if (JSON.stringify(running) === JSON.stringify(next)) return undefined
  if (running.type !== next.type) return `type changed from ${running.type} to ${next.type}`
  const keys = [...new Set([...Object.keys(running), ...Object.keys(next)])].filter((key) => JSON.stringify(running[key as keyof StoreConfig]) !== JSON.stringify(next[key as keyof StoreConfig]))
  return `${keys.join(', ')} changed`
}
