/**
 * @module Command-line parsing (node:util parseArgs): commands, flags and their validation.
 *
 * A bad command line exits 2 (see `--help`): an unknown flag, a flag given twice that takes one
 * value, or a value outside a flag's choices (named with the choices and a did-you-mean).
 */
import { parseArgs } from 'node:util'
import { AFFINITY_MODES, type AffinityMode } from '../config/affinity-schema.js'
import { BALANCE_POLICIES, LOG_LEVELS, MAX_WORKERS, type BalancePolicyName } from '../config/schema.js'
import { didYouMean } from '../config/schema-issues.js'

/** Quick mode's signing secret, when neither `--session-secret` nor a config file gives one. */
export const SESSION_SECRET_ENV = 'LATCH_SESSION_SECRET'

/** What the command line asks for. */
export interface CliArgs {
  readonly command: 'run' | 'check' | 'help' | 'version'
  readonly config: string | undefined
  /** Every `--listen` value, joined with commas (each may itself be a comma-separated list). */
  readonly listen: string | undefined
  /** Every `--upstream` value, joined with commas. */
  readonly upstream: string | undefined
  /** Every `--canary` value, joined with commas: a second pool that takes `canaryWeight` % of new sessions. */
  readonly canary: string | undefined
  /** `--canary-weight` (0–100; default 10 with --canary). */
  readonly canaryWeight: number | undefined
  readonly balance: BalancePolicyName | undefined
  /** The mode, with the aliases other tools use (`rr`, `ip`) resolved. */
  readonly affinity: AffinityMode | undefined
  readonly admin: string | undefined
  /** Every `--trust-proxy` value, joined with commas. */
  readonly trustProxy: string | undefined
  readonly accessLog: string | undefined
  readonly logLevel: (typeof LOG_LEVELS)[number] | undefined
  /** `--workers N|auto`; overrides the config's `workers`. */
  readonly workers: number | 'auto' | undefined
  /** Quick mode's `sessionSecrets`: every `--session-secret`, else LATCH_SESSION_SECRET; and which it was. */
  readonly sessionSecrets: { readonly values: readonly string[]; readonly from: string } | undefined
}

/** A command line that cannot be understood; exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

// Every option is parsed as `multiple` so that a repeated one is seen: list-like flags add up,
// the others are refused rather than silently keeping the last value.
const OPTIONS = {
  config: { type: 'string', short: 'c', multiple: true },
  listen: { type: 'string', short: 'l', multiple: true },
  upstream: { type: 'string', short: 'u', multiple: true },
  canary: { type: 'string', multiple: true },
  'canary-weight': { type: 'string', multiple: true },
  balance: { type: 'string', short: 'b', multiple: true },
  affinity: { type: 'string', short: 'a', multiple: true },
  admin: { type: 'string', multiple: true },
  'trust-proxy': { type: 'string', multiple: true },
  'session-secret': { type: 'string', multiple: true },
  'access-log': { type: 'string', multiple: true },
  'log-level': { type: 'string', multiple: true },
  workers: { type: 'string', short: 'w', multiple: true },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

/** Names other tools use for the same affinity modes (the shared benchmark harness says rr and ip). */
const AFFINITY_ALIASES: Readonly<Record<string, AffinityMode>> = { rr: 'none', ip: 'client-ip' }

/** Parses argv (without node and script); throws UsageError with a precise message. */
export function parseCliArgs(argv: readonly string[], env: NodeJS.ProcessEnv): CliArgs {
  let parsed
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''))
  }
  const { values, positionals } = parsed
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'check')) {
    throw new UsageError(`unknown command "${positionals.join(' ')}" — expected "latch check --config FILE" or "latch [options]"`)
  }
  const command = values.help === true ? 'help' : values.version === true ? 'version' : positionals[0] === 'check' ? 'check' : 'run'
  const upstream = values.upstream?.join(',')
  const config = once('--config', values.config) ?? (upstream === undefined ? nonEmpty(env.LATCH_CONFIG) : undefined)
  if (config !== undefined && upstream !== undefined) {
    throw new UsageError('--config and --upstream cannot be combined — use a config file, or quick mode with --upstream')
  }
  const secretFlags = values['session-secret']
  if (config !== undefined && secretFlags !== undefined) {
    throw new UsageError('--session-secret is for quick mode — with a config file, set sessionSecrets in it (e.g. ["${SESSION_SECRET}"])')
  }
  const secretFromEnv = nonEmpty(env[SESSION_SECRET_ENV])
  const affinity = choice('--affinity', once('--affinity', values.affinity), [...AFFINITY_MODES, ...Object.keys(AFFINITY_ALIASES)])
  const workers = once('--workers', values.workers)
  const canary = values.canary?.join(',')
  const canaryWeight = once('--canary-weight', values['canary-weight'])
  if (canary !== undefined && upstream === undefined) throw new UsageError('--canary needs --upstream (the main version the canary is compared with)')
  if (canaryWeight !== undefined && canary === undefined) throw new UsageError('--canary-weight needs --canary URLS')
  if (canaryWeight !== undefined && !/^(\d|[1-9]\d|100)$/.test(canaryWeight)) throw new UsageError(`--canary-weight: expected a whole percentage from 0 to 100, got "${canaryWeight}"`)
  return {
    command,
    config,
    listen: values.listen?.join(','),
    upstream,
    canary,
    canaryWeight: canaryWeight === undefined ? undefined : Number(canaryWeight),
    balance: choice('--balance', once('--balance', values.balance), BALANCE_POLICIES),
    affinity: affinity === undefined ? undefined : (AFFINITY_ALIASES[affinity] ?? (affinity as AffinityMode)),
    admin: once('--admin', values.admin),
    trustProxy: values['trust-proxy']?.join(','),
    accessLog: once('--access-log', values['access-log']),
    logLevel: choice('--log-level', once('--log-level', values['log-level']), LOG_LEVELS),
    workers: workers === undefined ? undefined : parseWorkers(workers),
    sessionSecrets:
      secretFlags !== undefined ? { values: secretFlags, from: '--session-secret' }
      : secretFromEnv !== undefined && config === undefined ? { values: [secretFromEnv], from: SESSION_SECRET_ENV }
      : undefined,
  }
}

/** The value of a flag that takes one; refused when given more than once. */
function once(flag: string, given: readonly string[] | undefined): string | undefined {
  if (given === undefined || given.length <= 1) return given?.[0]
  const times = given.length === 2 ? 'twice' : `${given.length} times`
  throw new UsageError(`${flag} given ${times} (${given.map((value) => JSON.stringify(value)).join(', ')}) — give it once`)
}

/** A value that must be one of `choices`; the message lists them, as the config file's does. */
function choice<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
  if (value === undefined || (choices as readonly string[]).includes(value)) return value as T | undefined
  throw new UsageError(`${flag}: expected one of ${choices.filter((name) => !(name in AFFINITY_ALIASES)).join(', ')}, got ${JSON.stringify(value)}${didYouMean(value, choices)}`)
}

function parseWorkers(text: string): number | 'auto' {
  if (text === 'auto') return 'auto'
  const count = Number(text)
  if (!/^\d+$/.test(text) || count < 1 || count > MAX_WORKERS) throw new UsageError(`--workers must be auto or a whole number from 1 to ${MAX_WORKERS}, got "${text}"`)
  return count
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value
}
