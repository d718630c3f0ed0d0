#!/usr/bin/env node
/**
 * @module The routing benchmark for a busy machine: both Latch processes (the `route-prefix` and the
 * `route-httproute-500` configs of lib/scenarios.mjs) run side by side on CPU 0, and wrk (on CPU 1,
 * with the node:http upstreams) loads one, then the other, in short bursts: A B, B A, … Each pair gives
 * a ratio from runs a second or two apart, so load from other processes that changes more slowly than
 * that cancels out; the geometric mean of each A-B and B-A couple cancels an order effect, and the median over couples is
 * the figure. Only one Latch is loaded at a time (the idle
 * one uses no CPU). Both get the routed request (lib/request-shapes.mjs `routed`).
 *
 * Usage: node bench/routing-alternating.mjs [--pairs 15] [--burst 2]   (wrk runs of --burst whole seconds)
 * Needs: wrk and taskset on PATH, a built dist/.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { firstLine } from './lib/first-line.mjs'
import { ROUTED } from './lib/request-shapes.mjs'
import { SCENARIOS } from './lib/scenarios.mjs'

const { values } = parseArgs({ options: { pairs: { type: 'string', default: '15' }, burst: { type: 'string', default: '2' } } })
const pairs = Number(values.pairs)
const burst = Math.max(1, Math.round(Number(values.burst)))
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname
const WRK_SCRIPT = new URL('./lib/wrk-shapes.lua', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'latch-routing-'))
const children = []
// Stopped from outside (a timeout, ^C): take the Latch processes and upstreams along.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGTERM')
    process.exit(1)
  })
}

function spawnOn(cpu, command, args) {
  const child = spawn('taskset', ['-c', String(cpu), command, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  children.push(child)
  return child
}

async function wrk(url) {
  const child = spawn('taskset', ['-c', '1', 'wrk', '-t1', '-c64', `-d${burst}s`, '--timeout', '2s', '-s', WRK_SCRIPT, url, '--', 'routed', '1', ROUTED.tenant], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (chunk) => (out += chunk))
  await new Promise((resolve) => child.on('close', resolve))
  const found = /\{"wrk":.*\}/.exec(out)
  if (found === null) throw new Error(`wrk printed no summary:\n${out}`)
  const summary = JSON.parse(found[0]).wrk
  const errors = summary.connectErrors + summary.readErrors + summary.writeErrors + summary.timeouts + summary.statusErrors
  return { rps: summary.requests / (summary.durationUs / 1e6), errors }
}

try {
  const upstreams = spawnOn(1, process.execPath, [new URL('./lib/upstream-server.mjs', import.meta.url).pathname, '3', String(pairs * (burst + 10) * 2 + 300)])
  const ports = JSON.parse((await firstLine(upstreams, /\{"ports":\[[^\]]*\]\}/, 60_000))[0]).ports
  const ctx = { upstreams: ports.map((port) => `http://127.0.0.1:${port}`) }
  const urls = {}
  for (const name of ['route-prefix', 'route-httproute-500']) {
    const file = join(dir, `${name}.json`)
    writeFileSync(file, JSON.stringify(SCENARIOS[name].latch(ctx).config))
    const latch = spawnOn(0, process.execPath, [CLI, '--config', file, '--log-level', 'info'])
    const address = (await firstLine(latch, /"listen":\["([^"]+)"\][^\n]*"msg":"latch is serving"/, 60_000))[1]
    urls[name] = `http://${address}${ROUTED.path}`
  }
  for (const url of Object.values(urls)) await wrk(url) // warm-up of both
  const ratios = []
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? ['route-prefix', 'route-httproute-500'] : ['route-httproute-500', 'route-prefix']
    const rps = {}
    const errors = {}
    for (const name of order) ({ rps: rps[name], errors: errors[name] } = await wrk(urls[name]))
    ratios.push(rps['route-httproute-500'] / rps['route-prefix'])
    console.log(`pair ${pair + 1} (${order.join(', ')}): route-prefix ${rps['route-prefix'].toFixed(0)} req/s, route-httproute-500 ${rps['route-httproute-500'].toFixed(0)} req/s, ratio ${ratios.at(-1).toFixed(3)}; errors/timeouts ${errors['route-prefix']} / ${errors['route-httproute-500']}`)
  }
  // The run that comes second in a pair can be systematically slower or faster on a busy machine; the
  // geometric mean of an A-B pair and the B-A pair after it cancels that order effect.
  const couples = []
  for (let i = 0; i + 1 < ratios.length; i += 2) couples.push(Math.sqrt(ratios[i] * ratios[i + 1]))
  const sorted = [...couples].sort((a, b) => a - b)
  console.log(`route-httproute-500 ÷ route-prefix, geometric mean of each A-B / B-A couple: ${couples.map((c) => c.toFixed(3)).join(', ')}`)
  console.log(`median ${sorted[Math.floor(sorted.length / 2)].toFixed(3)} (min ${sorted[0].toFixed(3)}, max ${sorted.at(-1).toFixed(3)}) over ${couples.length} couples`)
} finally {
  for (const child of children) child.kill('SIGTERM')
  rmSync(dir, { recursive: true, force: true })
}
