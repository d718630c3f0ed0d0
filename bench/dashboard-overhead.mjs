#!/usr/bin/env node
/**
 * @module Does an open dashboard cost traffic throughput? One Latch (quick mode, round robin, access
 * log off, admin listener on) pinned to CPU 0; node:http upstreams, wrk and a headless Chromium on
 * CPU 1. Rounds alternate: wrk with no page open, then wrk while the dashboard page is open and
 * polling (every 2 s), in A B / B A order. Prints per-round req/s, the ratio "page open ÷ closed" of
 * each pair and the median, with wrk's CPU beside each figure.
 *
 * Usage: node bench/dashboard-overhead.mjs [--rounds 6] [--duration 6] [--chromium /usr/bin/chromium]
 * Needs: wrk, Debian's chromium, playwright-core (a devDependency), a built dist/.
 */
import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { firstLine } from './lib/first-line.mjs'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, duration: { type: 'string', default: '6' }, chromium: { type: 'string', default: '/usr/bin/chromium' } } })
const rounds = Number(values.rounds)
const duration = Number(values.duration)
for (const tool of ['wrk', 'taskset']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`${tool} is not on PATH (apt-get install wrk util-linux)`)

function start(command, args, cpu) {
  const child = spawn('taskset', ['-c', String(cpu), command, ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
  return child
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

async function wrk(url) {
  const child = spawn('taskset', ['-c', '1', 'wrk', '-t1', '-c64', `-d${duration}s`, '--latency', url], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (chunk) => (out += chunk))
  let cpu = 0
  const poll = setInterval(() => {
    try {
      cpu = cpuSeconds(child.pid)
    } catch {}
  }, 200)
  await new Promise((resolve) => child.on('close', resolve))
  clearInterval(poll)
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 'NaN')
  return { rps, wrkCpuPercent: Math.round((100 * cpu) / duration) }
}

const upstream = start(process.execPath, [join(import.meta.dirname, 'lib/upstream-server.mjs'), '3', '900'], 1)
const { ports } = JSON.parse((await firstLine(upstream, /\{"ports":\[[^\]]*\]\}/))[0])
const latch = start(process.execPath, ['dist/cli/main.js', '--listen', '127.0.0.1:0', '--admin', '127.0.0.1:0', '--access-log', 'off', '--upstream', ports.map((port) => `http://127.0.0.1:${port}`).join(',')], 0)
const lines = []
latch.stdout.on('data', (chunk) => lines.push(...String(chunk).split('\n')))
let trafficUrl
let adminUrl
for (let waited = 0; adminUrl === undefined && waited < 20_000; waited += 100) {
  await new Promise((resolve) => setTimeout(resolve, 100))
  for (const text of lines) {
    if (!text.includes('"latch is serving"')) continue
    const line = JSON.parse(text)
    trafficUrl = `http://${line.listen[0]}/`
    adminUrl = `http://${line.admin}/`
  }
}
if (trafficUrl === undefined || adminUrl === undefined) throw new Error(`could not read the listening addresses from Latch's log:\n${lines.slice(0, 10).join('\n')}`)

const profile = mkdtempSync(join(tmpdir(), 'latch-dash-bench-'))
// Chromium and every process it forks run on the load side's CPU, never on Latch's.
const pinnedChromium = join(mkdtempSync(join(tmpdir(), 'latch-dash-bin-')), 'chromium')
writeFileSync(pinnedChromium, `#!/bin/sh\nexec taskset -c 1 ${values.chromium} "$@"\n`)
chmodSync(pinnedChromium, 0o755)
const results = []
try {
  await wrk(trafficUrl) // warm-up
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['closed', 'open'] : ['open', 'closed']
    const pair = {}
    for (const state of order) {
      let context
      if (state === 'open') {
        context = await chromium.launchPersistentContext(profile, { executablePath: pinnedChromium, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })
        const page = context.pages()[0] ?? (await context.newPage())
        await page.goto(adminUrl)
        await page.waitForSelector('text=default', { timeout: 10_000 })
      }
      pair[state] = await wrk(trafficUrl)
      await context?.close()
    }
    results.push(pair)
    console.log(`round ${round + 1}: closed ${pair.closed.rps.toFixed(0)} req/s (wrk ${pair.closed.wrkCpuPercent} %), open ${pair.open.rps.toFixed(0)} req/s (wrk ${pair.open.wrkCpuPercent} %), open ÷ closed ${(pair.open.rps / pair.closed.rps).toFixed(3)}`)
  }
} finally {
  latch.kill()
  upstream.kill()
  rmSync(profile, { recursive: true, force: true })
}
const ratios = results.map((pair) => pair.open.rps / pair.closed.rps).sort((a, b) => a - b)
const median = ratios.length % 2 === 1 ? ratios[(ratios.length - 1) / 2] : (ratios[ratios.length / 2 - 1] + ratios[ratios.length / 2]) / 2
console.log(`median open ÷ closed: ${median.toFixed(3)} over ${ratios.length} pairs (min ${ratios[0].toFixed(3)}, max ${ratios.at(-1).toFixed(3)}); wrk CPU max ${Math.max(...results.flatMap((pair) => [pair.open.wrkCpuPercent, pair.closed.wrkCpuPercent]))} %`)
