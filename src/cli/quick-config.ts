/**
 * @module Quick mode: a config built from flags, validated by the same schema as a file.
 */
import { ConfigError, type ConfigIssue } from '../errors/config-error.js'
import { validateConfig, type LoadedConfig } from '../config/load.js'
import { parseListenAddress } from '../net/address.js'
import type { CliArgs } from './args.js'

const LABEL = 'command line'

/** Builds and validates the quick-mode config; errors name the flag, not a config key. */
export function quickConfig(args: CliArgs): LoadedConfig {
  const split = (value: string | undefined): string[] => (value ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '')
  const listen = split(args.listen ?? '127.0.0.1:8080')
  const raw: Record<string, unknown> = {
    listen,
    trustedProxies: split(args.trustProxy),
    log: { level: args.logLevel ?? 'info', access: args.accessLog ?? 'stdout' },
    // Quick mode is for local use, where several proxies may run at once: no admin port unless asked.
    admin: { listen: args.admin === undefined || args.admin === 'off' ? false : args.admin },
    // No load balancer to wait for in local use: Ctrl-C stops at once, in-flight requests still finish.
    shutdown: { drainDelay: '0s', drainTimeout: '5s' },
    ...(args.sessionSecrets === undefined ? {} : { sessionSecrets: args.sessionSecrets.values }),
    pools: [
      {
        name: 'default',
        endpoints: split(args.upstream),
        ...(args.balance === undefined ? {} : { balance: args.balance }),
        ...(args.affinity === undefined ? {} : { affinity: { mode: args.affinity, responseHeader: true } }),
      },
      ...(args.canary === undefined ? [] : [canaryPool(args, split(args.canary))]),
    ],
    ...(args.canary === undefined ? {} : { routes: canaryRoutes(args.canaryWeight ?? DEFAULT_CANARY_WEIGHT) }),
  }
  let loaded: LoadedConfig
  try {
    loaded = validateConfig(raw, { file: LABEL, baseDir: process.cwd() })
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    throw new ConfigError(error.code, error.issues.map((issue) => toFlagIssue(issue, args)))
  }
  return { ...loaded, warnings: [...loaded.warnings, ...listen.flatMap(everyInterfaceWarning)] }
}

/** Share of new sessions a `--canary` pool gets without `--canary-weight`. */
export const DEFAULT_CANARY_WEIGHT = 10

/**
 * `--canary URLS`: a second pool, `canary`, with the main pool's balance and affinity. One HTTPRoute
 * rule splits every request between the two: `--canary-weight` % of new sessions go to the canary,
 * and with cookie or header affinity every session stays on its pool (sticky canary).
 */
function canaryPool(args: CliArgs, endpoints: string[]): Record<string, unknown> {
  return {
    name: 'canary',
    endpoints,
    ...(args.balance === undefined ? {} : { balance: args.balance }),
    ...(args.affinity === undefined ? {} : { affinity: { mode: args.affinity, responseHeader: true } }),
  }
}

/** One inline HTTPRoute rule: every request, split between the two pools. */
function canaryRoutes(weight: number): object[] {
  return [{
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'quick', namespace: 'default' },
    spec: { rules: [{ backendRefs: [{ name: 'default', weight: 100 - weight }, { name: 'canary', weight }] }] },
  }]
}

/**
 * `-l 8080` binds every interface, as `listen: 8080` in a file does, while quick mode's default is
 * loopback only: said at start, since a local dev proxy is often not meant to be reachable.
 */
function everyInterfaceWarning(address: string): string[] {
  if (!/^:?\d+$/.test(address)) return []
  const parsed = parseListenAddress(address)
  if (typeof parsed === 'string') return []
  return [`${LABEL}: --listen ${address} listens on every interface (${parsed.host}:${parsed.port}), reachable from other machines — write 127.0.0.1:${parsed.port} for this machine only`]
}

const FLAGS: readonly [RegExp, string][] = [
  [/^listen(\[(\d+)\])?/, '--listen'],
  [/^trustedProxies(\[(\d+)\])?/, '--trust-proxy'],
  [/^pools\[0\]\.endpoints(\[(\d+)\])?/, '--upstream'],
  [/^pools\[0\]\.balance/, '--balance'],
  [/^pools\[0\]\.affinity/, '--affinity'],
  [/^pools\[1\]\.endpoints(\[(\d+)\])?/, '--canary'],
  [/^log\.access/, '--access-log'],
  [/^log\.level/, '--log-level'],
  [/^admin\.listen/, '--admin'],
  [/^sessionSecrets(\[(\d+)\])?/, '--session-secret'],
]

function toFlagIssue(issue: ConfigIssue, args: CliArgs): ConfigIssue {
  for (const [pattern, flag] of FLAGS) {
    const match = pattern.exec(issue.path)
    if (match === null) continue
    if (flag === '--session-secret') {
      // Never echo a secret; name where it came from (the flag or LATCH_SESSION_SECRET).
      const from = args.sessionSecrets?.from ?? flag
      const item = match[2] === undefined || from !== flag ? '' : ` (item ${Number(match[2]) + 1})`
      return { file: LABEL, path: `${from}${item}`, message: 'expected a secret of at least 16 characters' }
    }
    const item = match[2] === undefined ? '' : ` (item ${Number(match[2]) + 1})`
    return { file: LABEL, path: `${flag}${item}`, message: issue.message.replace('pool "default" has no endpoints', 'no upstream given') }
  }
  return issue
}
