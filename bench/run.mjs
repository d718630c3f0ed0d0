#!/usr/bin/env node
/**
 * @module `npm run bench`: Latch scenarios measured side by side, interleaved, with same-repeat ratios.
 *
 * See bench/README.md. Every process started here is stopped by PID on exit, error, Ctrl-C or TERM, and the
 * whole run is bounded by a watchdog derived from the options.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { environment, shellLine } from './lib/environment.mjs'
import { assertBuilt } from './lib/latch.mjs'
import { measureLatch } from './lib/measure.mjs'
import { WRK_INSTALL_HINT } from './lib/loadgen.mjs'
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

/** A tool the run needs is missing; said in one line, exit code 1. */
class MissingTool extends Error {}

function checkTools(opts) {
  if (opts.loadgen === 'wrk' && !hasCommand('wrk')) throw new MissingTool(WRK_INSTALL_HINT)
  const unshaped = opts.scenarios.filter((name) => SHAPES[SCENARIOS[name].shape].autocannon === undefined)
  if (opts.loadgen === 'autocannon' && unshaped.length > 0) throw new UsageError(`--loadgen autocannon cannot shape the requests of ${unshaped.join(', ')}: use wrk`)
  if (opts.upstream === 'nginx' && !hasCommand('nginx')) throw new MissingTool('nginx is not on PATH: install it (Debian/Ubuntu: apt-get install nginx), or pass --upstream node')
  if (opts.upstream === 'auto') {
    opts.upstream = hasCommand('nginx') ? 'nginx' : 'node'
    if (opts.upstream === 'node') process.stderr.write('bench: nginx not found, using node:http upstreams; they share the load generator\'s CPU and need more of it, so more ratios may be refused (apt-get install nginx)\n')
  }
}

function startWatchdog(opts, measurements) {
  const budgetS = measurements * (opts.warmup + opts.duration + PER_RUN_OVERHEAD_S) + 60
  setTimeout(() => {
    process.stderr.write(`bench: over its ${budgetS} s budget; stopping\n`)
    void cleanup().finally(() => process.exit(1))
  }, budgetS * 1000).unref()
  return budgetS
}

const pct = (value) => (value === undefined ? '—' : `${Math.round(value)} %`)

function progress(record) {
  const cpu = record.ok ? ` (Latch ${pct(record.latchCpuPct)}, load generator ${pct(record.loadgenCpuPct)}, load side ${pct(record.loadSideCpuPct)})` : ''
  const text = record.ok ? `${Math.round(record.load.rps)} req/s${cpu}${record.checks.every((c) => c.ok) ? '' : ' ⚠ check failed'}` : `FAILED: ${record.error}`
  process.stderr.write(`[repeat ${record.repeat}] ${record.scenario}: ${text}\n`)
}

async function runAll(env, opts) {
  const records = []
  const add = (record) => {
    if (interrupted) throw new Interrupted()
    records.push(record)
    progress(record)
  }
  for (let repeat = 1; repeat <= opts.repeat; repeat++) {
    // Every scenario back to back, so each repeat's ratios come from the same minute of a drifting machine;
    // the order alternates (A B, B A, A B …) so that neither variant always runs first.
    const order = repeat % 2 === 1 ? opts.scenarios : [...opts.scenarios].reverse()
    for (const name of order) add(await measureLatch(env, name, repeat))
  }
  return records
}

function report(opts, env, records, meta) {
  const rows = summarize(records, opts.scenarios, SCENARIOS, opts.maxLoadgenCpu)
  const latchCommands = Object.fromEntries(opts.scenarios.map((name) => [name, records.find((r) => r.scenario === name)?.latchArgs]))
  const pin = (name) => (env.pinned ? ['taskset', '-c', String(latchCpus(SCENARIOS[name], env))] : [])
  process.stdout.write(`\nLatch bench — ${opts.loadgen}, ${opts.connections} connections, ${opts.duration} s × ${opts.repeat}, warm-up ${opts.warmup} s, ${opts.upstream} upstreams\n`)
  process.stdout.write(`pinning: ${env.pinned ? `Latch on CPU ${opts.proxyCpu} (scenarios with several workers: CPUs ${opts.proxyCpu},${opts.loadgenCpu}); load generator and upstreams on CPU ${opts.loadgenCpu}` : `off (${env.pinReason})`}\n\n`)
  process.stdout.write(`${formatTable(rows, opts.maxLoadgenCpu)}\n\n`)
  process.stdout.write(`× baseline: per repeat, req/s ÷ the named scenario's req/s of the same repeat; median (min–max). Refused when a run's load side (load generator + upstreams) used more than ${opts.maxLoadgenCpu} % of its CPU: then the load generator, not Latch, set the pace.\n`)
  process.stdout.write('CPU columns: % of one core over the measured window, median (and max) over repeats; load-gen = the load generator process alone.\n')
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
  const budgetS = startWatchdog(opts, opts.repeat * opts.scenarios.length)
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
  process.stderr.write(`bench: upstreams ${upstreams.urls.join(', ')}; ${env.repeat} repeat(s) of ${opts.scenarios.join(', ')}\n`)
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
    if (error instanceof MissingTool) process.stderr.write(`bench: ${error.message}\n`)
    else process.stderr.write(error instanceof UsageError ? `bench: ${error.message}\nRun "node bench/run.mjs --help" for usage.\n` : `bench: ${error.stack ?? error}\n`)
    void cleanup().finally(() => process.exit(error instanceof UsageError ? 2 : 1))
  },
)
