#!/usr/bin/env node
/**
 * @module The `latch` command: run a config file or quick mode, or check a config.
 */
import { loadConfigFile, type LoadedConfig } from '../config/load.js'
import { ConfigError } from '../errors/config-error.js'
import { StartupError } from '../errors/startup-error.js'
import { createLogger } from '../observability/logger.js'
import type { RunningProxy } from '../proxy.js'
import { parseCliArgs, UsageError, type CliArgs } from './args.js'
import { packageVersion, USAGE } from './help.js'
import { quickConfig } from './quick-config.js'

async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs
  try {
    args = parseCliArgs(argv, process.env)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`latch: ${error.message}\nRun "latch --help" for usage.\n`)
    return 2
  }
  if (args.command === 'help') {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  if (args.command === 'version') {
    process.stdout.write(`latch ${packageVersion()}\n`)
    return 0
  }
  if (refuseInsecureParser()) return 1
  let loaded: LoadedConfig
  try {
    loaded = loadFromArgs(args)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`${error.message}\n${args.command === 'check' ? '' : 'latch: refusing to start with an invalid config\n'}`)
    return 1
  }
  if (args.command === 'check') {
    const { config } = loaded
    for (const warning of loaded.warnings) process.stdout.write(`warning: ${warning}\n`)
    process.stdout.write(`${loaded.file}: ok (${config.pools.length} pool${config.pools.length === 1 ? '' : 's'}, ${config.listen.length} listener${config.listen.length === 1 ? '' : 's'})\n`)
    return 0
  }
  return run(loaded, args)
}

function loadFromArgs(args: CliArgs): LoadedConfig {
  if (args.config !== undefined) return loadConfigFile(args.config)
  if (args.upstream !== undefined) return quickConfig(args)
  throw new UsageError('nothing to proxy — give --config FILE (or LATCH_CONFIG), or --upstream URL[,URL...] for quick mode')
}

async function run(loaded: LoadedConfig, args: CliArgs): Promise<number> {
  const level = (args.logLevel ?? loaded.config.log.level) as Parameters<typeof createLogger>[0]
  const logger = createLogger(level)
  const accessOverride = args.accessLog
  const effective = accessOverride === undefined ? loaded : { ...loaded, config: { ...loaded.config, log: { ...loaded.config.log, access: accessOverride } } }
  // Signals are handled from before the listeners open: a SIGTERM that lands during start-up is a
  // graceful stop right after it, never Node's default (instant death).
  let proxy: RunningProxy | undefined
  let signalled = false
  let exit!: (code: number) => void
  const exited = new Promise<number>((resolve) => (exit = resolve))
  const stop = (signal: string): void => {
    if (signalled) {
      logger.warn({ signal }, 'second signal: exiting now without draining')
      exit(1)
      return
    }
    signalled = true
    logger.info({ signal }, 'shutting down gracefully')
    if (proxy !== undefined) void proxy.close().then(() => exit(0))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGHUP', () => void proxy?.reload('signal'))
  try {
    // Loaded only to run: `latch check` and `--help` stay fast.
    const { startProxy } = await import('../proxy.js')
    proxy = await startProxy(effective, logger, { file: args.config })
  } catch (error) {
    if (!(error instanceof StartupError)) throw error
    logger.fatal({ code: error.code }, error.message)
    return 1
  }
  if (signalled) void proxy.close().then(() => exit(0))
  return exited
}

/** The parser must stay strict: lenient parsing exposes upstreams to request smuggling. */
function refuseInsecureParser(): boolean {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]
  if (!flags.includes('--insecure-http-parser')) return false
  process.stderr.write('latch: refusing to start with --insecure-http-parser (it allows request smuggling); remove it from the node flags or NODE_OPTIONS\n')
  return true
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
    if (code !== 0 || process.listenerCount('SIGTERM') > 0) setImmediate(() => process.exit(code))
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`latch: ${error.message}\n`)
      process.exit(2)
    }
    process.stderr.write(`latch: internal error: ${(error as Error).stack ?? String(error)}\n`)
    process.exit(1)
  },
)
