/**
 * @module Command-line parsing (node:util parseArgs): commands, flags and their validation.
 */
import { parseArgs } from 'node:util'
import { MAX_WORKERS } from '../config/schema.js'

/** What the command line asks for. */
export interface CliArgs {
  readonly command: 'run' | 'check' | 'help' | 'version'
  readonly config: string | undefined
  readonly listen: string | undefined
  readonly upstream: string | undefined
  readonly balance: string | undefined
  readonly affinity: string | undefined
  readonly admin: string | undefined
  readonly trustProxy: string | undefined
  readonly accessLog: string | undefined
  readonly logLevel: string | undefined
  /** `--workers N|auto`; overrides the config's `workers`. */
  readonly workers: number | 'auto' | undefined
}

/** A command line that cannot be understood; exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  listen: { type: 'string', short: 'l' },
  upstream: { type: 'string', short: 'u' },
  balance: { type: 'string', short: 'b' },
  affinity: { type: 'string', short: 'a' },
  admin: { type: 'string' },
  'trust-proxy': { type: 'string' },
  'access-log': { type: 'string' },
  'log-level': { type: 'string' },
  workers: { type: 'string', short: 'w' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const

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
  const config = values.config ?? (values.upstream === undefined ? nonEmpty(env.LATCH_CONFIG) : undefined)
  if (config !== undefined && values.upstream !== undefined) {
    throw new UsageError('--config and --upstream cannot be combined — use a config file, or quick mode with --upstream')
  }
  return {
    command,
    config,
    listen: values.listen,
    upstream: values.upstream,
    balance: values.balance,
    affinity: values.affinity,
    admin: values.admin,
    trustProxy: values['trust-proxy'],
    accessLog: values['access-log'],
    logLevel: values['log-level'],
    workers: values.workers === undefined ? undefined : parseWorkers(values.workers),
  }
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
