/**
 * @module What a reload and a graceful shutdown report (reload-candidate.ts, config-reloader.ts,
 * graceful-shutdown.ts). A leaf module: the embedding API returns these without loading the
 * machinery behind them.
 */
import type { ConfigIssue } from '../errors/config-error.js'

/** `api`: the embedding API's `reload` (see src/index.ts). */
export type ReloadTrigger = 'signal' | 'file' | 'admin' | 'api'

/** Why a reload was refused; the previous config keeps serving in every case. */
export type ReloadFailureCode = 'CONFIG_INVALID' | 'LISTEN_FAILED' | 'NO_CONFIG_FILE'

/** What a reload did. */
export type ReloadOutcome =
  | { readonly ok: true; readonly changes: readonly string[] }
  | { readonly ok: false; readonly code: ReloadFailureCode; readonly message: string; readonly issues: readonly ConfigIssue[] }

/** Whether everything finished by itself, or had to be cut at the deadline. */
export type DrainOutcome = 'drained' | 'deadline'
