#!/usr/bin/env node
/**
 * @module The `latch` command: run a config file or quick mode, or check a config.
 */
import cluster from 'node:cluster'
import { readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { WORKER_SLOT_ENV } from '../cluster/protocol.js'
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
  if (cluster.isWorker) return runAsWorker(args)
  let loaded: LoadedConfig
  let text: string | undefined
  try {
    ;({ loaded, text } = loadFromArgs(args))
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
  const workers = workerCount(args.workers ?? loaded.config.workers)
  if (workers > 1) {
    const { runPrimary } = await import('../cluster/primary.js')
    return runPrimary({ loaded: withOverrides(loaded, args), text, file: args.config, workers, logger: loggerFor(loaded, args) })
  }
  return run(loaded, args)
}

/** The config, and the file's text it was validated from (handed to worker processes). */
function loadFromArgs(args: CliArgs): { loaded: LoadedConfig; text: string | undefined } {
  if (args.config !== undefined) {
    const text = readOrUndefined(args.config)
    // Unreadable: loadConfigFile reads again and reports why.
    return { loaded: loadConfigFile(args.config, process.env, text), text }
  }
  if (args.upstream !== undefined) return { loaded: quickConfig(args), text: undefined }
  throw new UsageError('nothing to proxy — give --config FILE (or LATCH_CONFIG), or --upstream URL[,URL...] for quick mode')
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** `workers: auto` is one per CPU core available to this process. */
function workerCount(workers: number | 'auto'): number {
  return workers === 'auto' ? availableParallelism() : workers
}

function loggerFor(loaded: LoadedConfig, args: CliArgs): ReturnType<typeof createLogger> {
  return createLogger((args.logLevel ?? loaded.config.log.level) as Parameters<typeof createLogger>[0])
}

/** The command line's `--access-log` wins over the config. */
function withOverrides(loaded: LoadedConfig, args: CliArgs): LoadedConfig {
  const accessOverride = args.accessLog
  return accessOverride === undefined ? loaded : { ...loaded, config: { ...loaded.config, log: { ...loaded.config.log, access: accessOverride } } }
}

/** A worker process of `workers` > 1 (forked by the supervisor with the same command line). */
async function runAsWorker(args: CliArgs): Promise<number> {
  const { runWorker } = await import('../cluster/worker.js')
  return runWorker({
    slot: Number(process.env[WORKER_SLOT_ENV]),
    file: args.config,
    configure: (fromFile) => withOverrides(fromFile ?? quickConfig(args), args),
    logger: (loaded) => loggerFor(loaded, args),
  })
}

async function run(loaded: LoadedConfig, args: CliArgs): Promise<number> {
  const logger = loggerFor(loaded, args)
  const effective = withOverrides(loaded, args)
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
