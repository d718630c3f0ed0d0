/**
 * @module Quick mode: a config built from flags, validated by the same schema as a file.
 */
import { ConfigError, type ConfigIssue } from '../errors/config-error.js'
import { validateConfig, type LoadedConfig } from '../config/load.js'
import type { CliArgs } from './args.js'

const LABEL = 'command line'
/** Names other tools use for the same modes (the shared benchmark harness says rr and ip). */
const AFFINITY_ALIASES: Readonly<Record<string, string>> = { rr: 'none', ip: 'client-ip' }

/** Builds and validates the quick-mode config; errors name the flag, not a config key. */
export function quickConfig(args: CliArgs): LoadedConfig {
  const split = (value: string | undefined): string[] => (value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '')
  const raw: Record<string, unknown> = {
    listen: split(args.listen ?? '127.0.0.1:8080'),
    trustedProxies: split(args.trustProxy),
    log: { level: args.logLevel ?? 'info', access: args.accessLog ?? 'stdout' },
    // Quick mode is for local use, where several proxies may run at once: no admin port unless asked.
    admin: { listen: args.admin === undefined || args.admin === 'off' ? false : args.admin },
    pools: [
      {
        name: 'default',
        endpoints: split(args.upstream),
        ...(args.balance === undefined ? {} : { balance: args.balance }),
        ...(args.affinity === undefined ? {} : { affinity: { mode: AFFINITY_ALIASES[args.affinity] ?? args.affinity, responseHeader: true } }),
      },
    ],
  }
  try {
    return validateConfig(raw, { file: LABEL, baseDir: process.cwd() })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    throw new ConfigError(error.code, error.issues.map(toFlagIssue))
  }
}

const FLAGS: readonly [RegExp, string][] = [
  [/^listen(\[(\d+)\])?/, '--listen'],
  [/^trustedProxies(\[(\d+)\])?/, '--trust-proxy'],
  [/^pools\[0\]\.endpoints(\[(\d+)\])?/, '--upstream'],
  [/^pools\[0\]\.balance/, '--balance'],
  [/^pools\[0\]\.affinity/, '--affinity'],
  [/^log\.access/, '--access-log'],
  [/^log\.level/, '--log-level'],
  [/^admin\.listen/, '--admin'],
]

function toFlagIssue(issue: ConfigIssue): ConfigIssue {
  for (const [pattern, flag] of FLAGS) {
    const match = pattern.exec(issue.path)
    if (match === null) continue
    const item = match[2] === undefined ? '' : ` (item ${Number(match[2]) + 1})`
    return { file: LABEL, path: `${flag}${item}`, message: issue.message.replace('pool "default" has no endpoints', 'no upstream given') }
  }
  return issue
}
