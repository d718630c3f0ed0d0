#!/usr/bin/env node
/**
 * @module `npm run bench`: direct-to-upstream and Latch figures measured in the same run, with same-repeat ratios.
 *
 * See bench/README.md. Every process started here is stopped by PID on exit, error, Ctrl-C or TERM, and the
 * whole run is bounded by a watchdog derived from the options.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { environment, shellLine } from './lib/environment.mjs'
import { assertBuilt } from './lib/latch.mjs'
import { measureDirect, measureLatch } from './lib/measure.mjs'
import { parseOptions, USAGE, UsageError } from './lib/options.mjs'
import { killAllSync, pinningSupport, stopAll } from './lib/processes.mjs'
import { formatTable, summarize } from './lib/report.mjs'
import { latchCpus, SCENARIOS, validateScenarioTable } from './lib/scenarios.mjs'
import { SHAPES } from './lib/request-shapes.mjs'
import { hasCommand, startUpstreams } from './lib/upstreams.mjs'

const ROOT = resolve(import.meta.dirname, '..')
const COMMAND = shellLine(['node', relative(ROOT, process.argv[1]) || 'bench/run.mjs', ...process.argv.slice(2)])
/** Seconds one measurement may take beyond warm-up + duration (start-up, probe, stop, checks). */
const PER_RUN_OVERHEAD_S = 60

let scratch
let keepScratch = false
/** Set by SIGINT/SIGTERM: the run stops after the current measurement and reports nothing. */
let interrupted = false

/** Ends the run quietly after a signal; the signal handler does the cleanup and the exit. */
class Interrupted extends Error {}

async function cleanup() {
  await stopAll()
  if (scratch !== undefined && !keepScratch) rmSync(scratch, { recursive: true, force: true })
}

function installCleanup() {
  const onSignal = (signal, code) => () => {
    interrupted = true
    process.stderr.write(`\nbench: ${signal}, stopping everything it started\n`)
    void cleanup().finally(() => process.exit(code))
  }
  process.on('SIGINT', onSignal('SIGINT', 130))
  process.on('SIGTERM', onSignal('SIGTERM', 143))
  // Last resort when exiting any other way: kill what is left, synchronously.
  process.on('exit', () => {
    killAllSync()
    if (scratch !== undefined && !keepScratch) rmSync(scratch, { recursive: true, force: true })
  })
}

function checkTools(opts) {
  if (opts.loadgen === 'wrk' && !hasCommand('wrk')) throw new UsageError('--loadgen wrk: wrk is not on PATH (install it, or use the default autocannon)')
  const unshaped = opts.scenarios.filter((name) => SCENARIOS[name].shape !== 'plain' && SHAPES[SCENARIOS[name].shape].wrkScript === undefined)
  if (opts.loadgen === 'wrk' && unshaped.length > 0) throw new UsageError(`--loadgen wrk cannot shape the requests of ${unshaped.join(', ')} yet: use the default autocannon`)
  if (opts.upstream === 'nginx' && !hasCommand('nginx')) throw new UsageError('--upstream nginx: nginx is not on PATH (install it, or use the default node upstreams)')
}

function startWatchdog(opts, measurements) {
  const budgetS = measurements * (opts.warmup + opts.duration + PER_RUN_OVERHEAD_S) + 60
  setTimeout(() => {
    process.stderr.write(`bench: over its ${budgetS} s budget; stopping\n`)
    void cleanup().finally(() => process.exit(1))
  }, budgetS * 1000).unref()
  return budgetS
}

function progress(record) {
  const what = record.target === 'direct' ? `direct (${record.shape})` : record.scenario
  const text = record.ok ? `${Math.round(record.load.rps)} req/s${record.checks.every((c) => c.ok) ? '' : ' ⚠ check failed'}` : `FAILED: ${record.error}`
  process.stderr.write(`[repeat ${record.repeat}] ${what}: ${text}\n`)
}

async function runAll(env, opts) {
  const shapes = [...new Set(opts.scenarios.map((name) => SCENARIOS[name].shape))]
  const records = []
  const add = (record) => {
    if (interrupted) throw new Interrupted()
    records.push(record)
    progress(record)
  }
  for (let repeat = 1; repeat <= opts.repeat; repeat++) {
    // Direct first, then every scenario, back to back: each repeat's ratios come from the same minute.
    for (const shape of shapes) add(await measureDirect(env, shape, repeat))
    for (const name of opts.scenarios) add(await measureLatch(env, name, repeat))
  }
  return records
}

function report(opts, env, records, meta) {
  const rows = summarize(records, opts.scenarios, SCENARIOS)
  const latchCommands = Object.fromEntries(opts.scenarios.map((name) => [name, records.find((r) => r.scenario === name)?.latchArgs]))
  const pin = (name) => (env.pinned ? ['taskset', '-c', String(latchCpus(SCENARIOS[name], env))] : [])
  process.stdout.write(`\nLatch bench — ${opts.loadgen}, ${opts.connections} connections, ${opts.duration} s × ${opts.repeat}, warm-up ${opts.warmup} s, ${opts.upstream} upstreams\n`)
  process.stdout.write(`pinning: ${env.pinned ? `Latch on CPU ${opts.proxyCpu} (scenarios with several workers: CPUs ${opts.proxyCpu},${opts.loadgenCpu}); load generator and upstreams on CPU ${opts.loadgenCpu}` : `off (${env.pinReason})`}\n\n`)
  process.stdout.write(`${formatTable(rows)}\n\n`)
  process.stdout.write('× direct: per repeat, Latch req/s ÷ direct req/s of the same repeat; median (min–max over repeats). × baseline likewise against the named scenario.\n')
  for (const [name, args] of Object.entries(latchCommands)) {
    if (args !== undefined) process.stdout.write(`latch (${name}): ${shellLine([...pin(name), 'node', 'dist/cli/main.js', ...args])}\n`)
  }
  process.stdout.write(`command: ${COMMAND}\n`)
  const outDir = resolve(ROOT, opts.out)
  mkdirSync(outDir, { recursive: true })
  const file = join(outDir, `bench-${meta.startedAt.replace(/[:.]/g, '-')}.json`)
  const json = { command: COMMAND, ...meta, finishedAt: new Date().toISOString(), options: opts, latchCommands, runs: records, summary: rows }
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`)
  process.stdout.write(`results: ${relative(process.cwd(), file)}\n`)
  if (keepScratch) process.stdout.write(`scratch folder kept: ${scratch}\n`)
  return records.every((r) => r.ok && r.checks.every((c) => c.ok))
}

async function main() {
  const opts = parseOptions(process.argv.slice(2))
  if (opts.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  validateScenarioTable()
  assertBuilt()
  checkTools(opts)
  installCleanup()
  keepScratch = opts.keep
  scratch = mkdtempSync(join(tmpdir(), 'latch-bench-'))
  const startedAt = new Date().toISOString()
  const shapes = new Set(opts.scenarios.map((name) => SCENARIOS[name].shape)).size
  const budgetS = startWatchdog(opts, opts.repeat * (shapes + opts.scenarios.length))
  const { pinned, reason } = pinningSupport([opts.proxyCpu, opts.loadgenCpu])
  if (!pinned) process.stderr.write(`bench: not pinning to CPUs (${reason}); figures are noisier\n`)
  const upstreams = await startUpstreams({ kind: opts.upstream, count: 3, cpu: pinned ? opts.loadgenCpu : undefined, dir: scratch, maxSeconds: budgetS + 30 })
  const redact = (text) => text.replaceAll(scratch, '$TMP').replaceAll(`${ROOT}/`, '')
  const env = {
    ...opts,
    dir: scratch,
    upstreams,
    pinned,
    pinReason: reason,
    proxyCpuPin: pinned ? opts.proxyCpu : undefined,
    loadgenCpuPin: pinned ? opts.loadgenCpu : undefined,
    redact,
  }
  process.stderr.write(`bench: upstreams ${upstreams.urls.join(', ')}; ${env.repeat} repeat(s) of direct + ${opts.scenarios.join(', ')}\n`)
  const records = await runAll(env, opts)
  const meta = { startedAt, environment: environment(opts, pinned, reason) }
  const allOk = report(opts, env, records, meta)
  await cleanup()
  return allOk ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error) => {
    if (error instanceof Interrupted) return
    process.stderr.write(error instanceof UsageError ? `bench: ${error.message}\nRun "node bench/run.mjs --help" for usage.\n` : `bench: ${error.stack ?? error}\n`)
    void cleanup().finally(() => process.exit(error instanceof UsageError ? 2 : 1))
  },
)
