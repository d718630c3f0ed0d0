#!/usr/bin/env node
/**
 * @module Start footprint of Latch: resident memory of `node dist/cli/main.js` in quick mode with no traffic,
 * next to a bare `node:http` server started the same way (the floor any Node.js proxy stands on).
 *
 *   node bench/footprint.mjs [--runs 5] [--settle 2000] [--settled 12000] [--modules]
 *                            [--node-flags=--max-semi-space-size=4] [-- EXTRA LATCH ARGS...]
 *
 * Every run is a fresh process: it is started, its "latch is serving" line awaited, then left alone for
 * `--settle` ms (no request at all) before VmRSS / VmHWM are read from /proc; then one GET checks it
 * answers 200 and the RSS after that first request is read too. Medians over the runs (RSS is far less
 * sensitive than throughput to other load on the machine, but not immune: page-ins, GC timing).
 * `--settled MS` also reads VmRSS after MS ms of idleness (still before any request): V8's memory reducer
 * runs about 8 s after the start-up's last full GC and gives back the young generation that start-up grew,
 * so a reading after it is what an idle proxy keeps resident; the `--settle` reading is the start itself.
 * `--modules` adds one more run with a module hook that lists every file loaded, grouped by package
 * (that run's memory is not counted: the hook thread costs memory of its own).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { httpGet } from './lib/probe.mjs'
import { assertBuilt, CLI } from './lib/latch.mjs'

const { values: opts, positionals: extra } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    settle: { type: 'string', default: '2000' },
    settled: { type: 'string', default: '0' },
    modules: { type: 'boolean', default: false },
    'node-flags': { type: 'string', default: '' },
    help: { type: 'boolean', default: false },
  },
  allowPositionals: true,
})
if (opts.help) {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(2, 17).join('\n').replace(/^ \*\/?/gm, '') + '\n')
  process.exit(0)
}
assertBuilt()
const RUNS = Number(opts.runs)
const SETTLE_MS = Number(opts.settle)
const SETTLED_MS = Number(opts.settled)
const NODE_FLAGS = opts['node-flags'].split(/\s+/).filter((flag) => flag !== '')
const START_MS = 20_000

/** A bare node:http server answering 200, listening on an ephemeral port and printing the same ready line. */
const BARE = `import { createServer } from 'node:http'
const s = createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1', () => console.log(JSON.stringify({ msg: 'latch is serving', listen: ['127.0.0.1:' + s.address().port] })))`

const upstream = createServer((req, res) => res.end('ok'))
await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve))
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`
const scratch = mkdtempSync(join(tmpdir(), 'latch-footprint-'))

function statusKb(pid, field) {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'))
  return match === null ? undefined : Number(match[1])
}

/** Starts `args` under node, resolves { child, address, lines } once the ready line names an address. */
function start(args, env = process.env) {
  const child = spawn(process.execPath, [...NODE_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
  const lines = []
  let buffered = ''
  const onData = (chunk) => {
    buffered += chunk
    const parts = buffered.split('\n')
    buffered = parts.pop()
    lines.push(...parts)
  }
  child.stdout.setEncoding('utf8').on('data', onData)
  child.stderr.setEncoding('utf8').on('data', onData)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`not serving within ${START_MS} ms:\n${lines.slice(-10).join('\n')}`)), START_MS)
    const fail = (error) => {
      clearTimeout(timer)
      child.kill('SIGKILL')
      reject(error)
    }
    child.on('exit', (code) => fail(new Error(`exited (${code}) before serving:\n${lines.slice(-10).join('\n')}`)))
    const poll = setInterval(() => {
      for (const line of lines) {
        if (!line.startsWith('{')) continue
        try {
          const parsed = JSON.parse(line)
          if (parsed.msg === 'latch is serving') {
            clearInterval(poll)
            clearTimeout(timer)
            child.removeAllListeners('exit')
            resolve({ child, address: parsed.listen[0], lines })
            return
          }
        } catch {
          // Not JSON after all.
        }
      }
    }, 20)
    child.on('exit', () => clearInterval(poll))
  })
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(timer)
}

/** One measured run: idle RSS after the settle time, peak so far, RSS after one request. */
async function measure(args) {
  const { child, address } = await start(args)
  try {
    await sleep(SETTLE_MS)
    const idle = { rss: statusKb(child.pid, 'VmRSS'), hwm: statusKb(child.pid, 'VmHWM') }
    if (SETTLED_MS > SETTLE_MS) {
      await sleep(SETTLED_MS - SETTLE_MS)
      idle.settled = statusKb(child.pid, 'VmRSS')
    }
    const answer = await httpGet(`http://${address}/`)
    if (answer.status !== 200) throw new Error(`GET / answered ${answer.status ?? answer.error}`)
    // Background compilation (undici's llhttp WebAssembly tiers up, hot functions are optimised) peaks after it.
    await sleep(1000)
    return { ...idle, afterRequest: statusKb(child.pid, 'VmRSS'), peakAfterRequest: statusKb(child.pid, 'VmHWM') }
  } finally {
    await stop(child)
  }
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const mb = (kb) => (kb / 1024).toFixed(1)

const latchArgs = [CLI, '--listen', '127.0.0.1:0', '--upstream', upstreamUrl, '--log-level', 'info', '--access-log', 'off', ...extra]
const variants = [
  { name: 'bare node:http', args: ['--input-type=module', '-e', BARE] },
  { name: 'latch quick mode', args: latchArgs },
]

/** Lists the files a Latch start loads, by package (a hook thread sees every ESM and CommonJS load). */
async function listModules() {
  const hooks = join(scratch, 'hooks.mjs')
  const register = join(scratch, 'register.mjs')
  const { writeFileSync } = await import('node:fs')
  writeFileSync(hooks, `import { writeSync } from 'node:fs'\nexport async function load(url, context, next) { writeSync(2, 'FOOTPRINT-LOADED ' + url + '\\n'); return next(url, context) }\n`)
  // CommonJS files required by CommonJS files do not pass the hooks on Node 20: listed from require.cache at exit.
  writeFileSync(register, `import { createRequire, register } from 'node:module'\nimport { writeSync } from 'node:fs'\nregister(${JSON.stringify(`file://${hooks}`)})\nconst require = createRequire(import.meta.url)\nprocess.on('exit', () => { for (const file of Object.keys(require.cache)) writeSync(2, 'FOOTPRINT-LOADED file://' + file + '\\n') })\n`)
  const { child, lines } = await start(['--import', register, ...latchArgs])
  await sleep(500)
  await stop(child)
  const byPackage = new Map()
  const seen = new Set()
  for (const line of lines) {
    if (!line.startsWith('FOOTPRINT-LOADED ')) continue
    const url = line.slice('FOOTPRINT-LOADED '.length)
    if (seen.has(url)) continue
    seen.add(url)
    const pkg = url.startsWith('node:') ? 'node: built-ins' : url.includes('/node_modules/') ? url.split('/node_modules/').pop().split('/').slice(0, url.split('/node_modules/').pop().startsWith('@') ? 2 : 1).join('/') : url.includes('/dist/') ? 'latch dist/' : url
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + 1)
  }
  return [...byPackage].sort((a, b) => b[1] - a[1])
}

try {
  const rows = []
  for (const variant of variants) variant.samples = []
  // Interleaved, so drift on a shared machine touches both alike.
  for (let run = 0; run < RUNS; run++) for (const variant of variants) variant.samples.push(await measure(variant.args))
  for (const variant of variants) {
    const { samples } = variant
    const settled = SETTLED_MS > SETTLE_MS ? ` ${mb(median(samples.map((s) => s.settled)))} (${mb(Math.min(...samples.map((s) => s.settled)))}–${mb(Math.max(...samples.map((s) => s.settled)))}) |` : ''
    rows.push(`| ${variant.name} | ${mb(median(samples.map((s) => s.rss)))} (${mb(Math.min(...samples.map((s) => s.rss)))}–${mb(Math.max(...samples.map((s) => s.rss)))}) | ${mb(median(samples.map((s) => s.hwm)))} |${settled} ${mb(median(samples.map((s) => s.afterRequest)))} | ${mb(median(samples.map((s) => s.peakAfterRequest)))} |`)
  }
  process.stdout.write(`node ${process.version}, ${RUNS} runs each, ${SETTLE_MS} ms idle before reading${NODE_FLAGS.length > 0 ? `, node flags ${NODE_FLAGS.join(' ')}` : ''}\n\n`)
  const settledHead = SETTLED_MS > SETTLE_MS ? [` RSS after ${SETTLED_MS} ms idle MB, median (min–max) |`, '---|'] : ['', '']
  process.stdout.write(`| process | start RSS MB, median (min–max) | peak RSS (VmHWM) MB |${settledHead[0]} RSS 1 s after 1st request MB | peak RSS then MB |\n|---|---|---|${settledHead[1]}---|---|\n`)
  process.stdout.write(`${rows.join('\n')}\n`)
  process.stdout.write(`\nLatch command: node ${[...NODE_FLAGS, 'dist/cli/main.js', ...latchArgs.slice(1)].join(' ').replace(upstreamUrl, 'http://127.0.0.1:PORT')}\n`)
  if (opts.modules) {
    const modules = await listModules()
    process.stdout.write(`\nFiles loaded at start (${modules.reduce((sum, [, count]) => sum + count, 0)}):\n`)
    for (const [pkg, count] of modules) process.stdout.write(`  ${String(count).padStart(4)}  ${pkg}\n`)
  }
} finally {
  upstream.close()
  rmSync(scratch, { recursive: true, force: true })
}
