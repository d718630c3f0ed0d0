#!/usr/bin/env node
/**
 * @module `npm run soak`: does Latch's memory stay flat under long mixed traffic? Outside CI (30 minutes).
 *
 *   npm run soak -- [--minutes 30] [--rate 300] [--warmup-minutes 10] [--max-slope 2] [--keep]
 *                   [--max-entries 100000] [--settle-minutes 3] [--snapshot-at 5,11]
 *
 * Runs the built CLI (dist/) from a config file with the default store (memory, maxEntries 100,000)
 * and sends, at a capped rate over loopback only, a mix of:
 *   - 20 %: cookie clients with a cookie jar (2,000 of them, each sends back what Latch set),
 *   - 15 %: cookie clients without one (every request starts a new session),
 *   - 65 %: client-ip clients from X-Forwarded-For (Latch trusts 127.0.0.1), 95 % of them new
 *     addresses, the others returning, so the binding table reaches store.maxEntries and then evicts;
 * while the config is rewritten and reloaded (SIGHUP) every minute and one of the three upstreams is
 * killed (SIGKILL) and restarted every three minutes.
 *
 * What decides: the V8 heap still in use after each full (mark-compact) GC, read from Latch's own
 * `--trace-gc` lines (no hook, no endpoint: V8 prints them to stdout). That is the live heap, what a
 * leak makes grow; RSS is not: V8 grows and shrinks its spaces in steps of many MB long after the
 * store is full (the first 30-minute run fell 172 → 136 MB at one major GC, then rose 36 MB), so an
 * RSS slope over 20 minutes cannot tell a leak from the heap settling.
 * The slope is a least-squares line through the post-GC samples after the warm-up, which lasts at
 * least --warmup-minutes and until --settle-minutes (3) after the store is full (the heap keeps
 * growing for a while after the first eviction: in a 20,000-entry run it rose 25.0 → 27.2 MB over the
 * 3 minutes after it, then stayed within 27.2–27.5 MB), in MB per hour; the RSS slope (VmRSS every 5 s) is printed beside it.
 * Exit code 1 when the post-GC heap slope exceeds --max-slope MB/hour, when fewer than 3 full GCs
 * came after the warm-up, when the store never filled or Latch died; 0 otherwise. The load is
 * bounded: --rate requests per second at most, 64 in flight.
 *
 * --max-entries sets store.maxEntries (default: the default, 100,000) so a short run reaches the
 * steady state sooner; --snapshot-at writes V8 heap snapshots of Latch at those minutes (SIGUSR2 with
 * `--heapsnapshot-signal`) into the kept scratch directory; compare two with
 * `node scripts/heap-diff.mjs A.heapsnapshot B.heapsnapshot`.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'

const { values: opts } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    rate: { type: 'string', default: '300' },
    'warmup-minutes': { type: 'string' },
    'max-slope': { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
    'max-entries': { type: 'string' },
    'settle-minutes': { type: 'string', default: '3' },
    'snapshot-at': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
})
if (opts.help) {
  process.stdout.write(readFileSync(new URL(import.meta.url), 'utf8').split(' */')[0].split('\n').slice(2).join('\n').replace(/^ \*\/?/gm, '') + '\n')
  process.exit(0)
}
const MINUTES = Number(opts.minutes)
const RATE = Number(opts.rate)
const WARMUP_MS = Number(opts['warmup-minutes'] ?? Math.min(10, MINUTES / 3)) * 60_000
const MAX_SLOPE = Number(opts['max-slope'])
const DURATION_MS = MINUTES * 60_000
const MAX_ENTRIES = opts['max-entries'] === undefined ? undefined : Number(opts['max-entries'])
const SNAPSHOT_AT_MS = (opts['snapshot-at'] ?? '').split(',').filter((m) => m !== '').map((m) => Number(m) * 60_000)
const KEEP = opts.keep || SNAPSHOT_AT_MS.length > 0
const SETTLE_MS = Number(opts['settle-minutes']) * 60_000
const MAX_IN_FLIGHT = 64
const SAMPLE_MS = 5_000
const RELOAD_MS = 60_000
const KILL_EVERY_MS = 180_000
const KILL_DOWN_MS = 15_000
const CLI = new URL('../dist/cli/main.js', import.meta.url).pathname
if (MAX_ENTRIES !== undefined && !(MAX_ENTRIES > 0)) throw new Error('--max-entries must be a positive number')
if (SNAPSHOT_AT_MS.some((ms) => !(ms > 0))) throw new Error('--snapshot-at takes minutes, comma-separated')
if (!(MINUTES > 0 && RATE > 0 && MAX_SLOPE > 0)) throw new Error('--minutes, --rate and --max-slope must be positive numbers')

const scratch = mkdtempSync(join(tmpdir(), 'latch-soak-'))
const children = new Set()

/** One upstream process: answers 200 with a small body, on `port` (0: any). Resolves { child, port }. */
function startUpstream(port) {
  const code = `const s = require('node:http').createServer((req, res) => { req.resume(); req.on('end', () => res.end('ok from ' + s.address().port)) }); s.keepAliveTimeout = 65000; s.listen(${port}, '127.0.0.1', () => console.log(s.address().port))`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.add(child)
  child.on('exit', () => children.delete(child))
  return new Promise((resolve, reject) => {
    child.stdout.once('data', (chunk) => resolve({ child, port: Number(String(chunk).trim()) }))
    child.once('exit', (exitCode) => reject(new Error(`upstream exited (${exitCode}) before listening`)))
  })
}

function configText(endpoints, variant) {
  // Reloads alternate two real differences (balance policy, a response header) so each one rebuilds the runtime.
  return JSON.stringify({
    listen: '127.0.0.1:0',
    trustedProxies: ['127.0.0.1/32'],
    admin: { listen: '127.0.0.1:0' },
    log: { level: 'info', access: 'off' },
    ...(MAX_ENTRIES === undefined ? {} : { store: { maxEntries: MAX_ENTRIES } }),
    pools: [
      // Clients without a jar start a session per request: a short live-session window keeps that table at a
      // steady size within the run (the binding table, filled by client-ip, is the one held at maxEntries).
      { name: 'web', endpoints, balance: variant ? 'least-request' : 'round-robin', affinity: { mode: 'cookie', responseHeader: variant, liveSessionWindow: '2m' } },
      { name: 'ip', endpoints, affinity: { mode: 'client-ip' } },
    ],
    routes: { rules: [{ http: { paths: [
      { path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } },
      { path: '/ip', pathType: 'Prefix', backend: { service: { name: 'ip' } } },
    ] } }] },
  }, null, 2)
}

/** A `--trace-gc` line of a full GC: ms since the isolate started, heap used before and after (MB). */
const MARK_COMPACT = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: Mark-Compact(?: \(reduce\))? ([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/

/** Starts Latch with V8's GC trace on (and heap snapshots on SIGUSR2, written into `scratch`). */
function startLatch(configFile) {
  const flags = ['--trace-gc', '--heapsnapshot-signal=SIGUSR2']
  const spawnedAt = Date.now()
  const child = spawn(process.execPath, [...flags, CLI, '--config', configFile], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  child.on('exit', () => children.delete(child))
  const log = []
  const fullGcs = []
  const lineReader = () => {
    // V8 writes the trace through stdio's buffer: a chunk can end in the middle of a line.
    let partial = ''
    return (chunk) => {
      const lines = (partial + String(chunk)).split('\n')
      partial = lines.pop()
      for (const line of lines) {
        const gc = MARK_COMPACT.exec(line)
        if (gc !== null) fullGcs.push({ isolateMs: Number(gc[1]), beforeMb: Number(gc[2]), afterMb: Number(gc[3]) })
        else if (line !== '' && !/^\[\d+:0x[0-9a-f]+\]/.test(line)) log.push(line)
      }
      if (log.length > 1000) log.splice(0, log.length - 1000)
    }
  }
  child.stdout.on('data', lineReader())
  child.stderr.on('data', lineReader())
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      for (const line of log) {
        if (!line.includes('latch is serving')) continue
        const parsed = JSON.parse(line)
        clearInterval(timer)
        resolve({ child, log, fullGcs, spawnedAt, url: `http://${parsed.listen[0]}`, admin: `http://${parsed.admin}` })
        return
      }
    }, 50)
    child.once('exit', (exitCode) => {
      clearInterval(timer)
      reject(new Error(`latch exited (${exitCode}) before serving:\n${log.slice(-10).join('\n')}`))
    })
  })
}

function rssKb(pid) {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)/m)[1])
}

/** GET `url` text; resolves { status, text } or { error }. */
function get(url, agent) {
  return new Promise((resolve) => {
    const req = request(url, { agent, timeout: 10_000 }, (res) => {
      let text = ''
      res.setEncoding('utf8').on('data', (chunk) => (text += chunk)).on('end', () => resolve({ status: res.statusCode, text }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (error) => resolve({ error: error.message }))
    req.end()
  })
}

/** Sum of a Prometheus metric's series (0 when absent). */
function metricSum(text, name) {
  let sum = 0
  for (const line of text.split('\n')) if (line.startsWith(`${name} `) || line.startsWith(`${name}{`)) sum += Number(line.slice(line.lastIndexOf(' ') + 1))
  return sum
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0)
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0)
  return sxx === 0 ? 0 : sxy / sxx
}

async function main() {
  const upstreams = await Promise.all([0, 0, 0].map((port) => startUpstream(port)))
  const endpoints = upstreams.map((u) => `http://127.0.0.1:${u.port}`)
  const configFile = join(scratch, 'latch.json')
  let variant = false
  writeFileSync(configFile, configText(endpoints, variant))
  const latch = await startLatch(configFile)
  const { hostname: host, port } = new URL(latch.url)
  process.stdout.write(`soak: ${MINUTES} min at ≤ ${RATE} req/s (≤ ${MAX_IN_FLIGHT} in flight), warm-up ≥ ${WARMUP_MS / 60_000} min and until ${SETTLE_MS / 60_000} min after the store is full; latch pid ${latch.child.pid}, config ${configFile}\n`)

  const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT })
  const jars = Array.from({ length: 2000 }, () => undefined)
  const counts = { sent: 0, ok: 0, non2xx: 0, errors: 0, dropped: 0, reloads: 0, kills: 0 }
  let inFlight = 0
  let nextIp = 0
  const started = Date.now()
  let storeFullAt

  const ipOf = (n) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`
  function fire() {
    if (inFlight >= MAX_IN_FLIGHT) {
      counts.dropped++
      return
    }
    const roll = Math.random()
    const headers = {}
    let path = '/'
    let jar
    if (roll < 0.2) {
      jar = Math.floor(Math.random() * jars.length)
      if (jars[jar] !== undefined) headers.cookie = jars[jar]
    } else if (roll < 0.35) {
      // A client without a cookie jar: a new session every time.
    } else {
      path = '/ip'
      // 95 % new addresses (the table fills, then evicts), 5 % one of the last 5,000.
      const n = Math.random() < 0.95 ? nextIp++ : Math.max(0, nextIp - 1 - Math.floor(Math.random() * 5000))
      headers['x-forwarded-for'] = ipOf(n % 16_000_000)
    }
    inFlight++
    counts.sent++
    const req = request({ host, port, path, headers, agent, timeout: 15_000 }, (res) => {
      if (jar !== undefined && res.headers['set-cookie'] !== undefined) jars[jar] = res.headers['set-cookie'].map((c) => c.split(';')[0]).join('; ')
      if (res.statusCode >= 200 && res.statusCode < 300) counts.ok++
      else counts.non2xx++
      res.resume()
      res.on('end', () => inFlight--)
      res.on('error', () => inFlight--)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', (error) => {
      counts.errors++
      counts.lastError = error.message
      inFlight--
    })
    req.end()
  }

  // Open-loop load: every 10 ms, the requests owed to the rate so far.
  let owed = 0
  const load = setInterval(() => {
    owed += RATE / 100
    while (owed >= 1) {
      owed--
      fire()
    }
  }, 10)

  const reload = setInterval(() => {
    variant = !variant
    writeFileSync(configFile, configText(endpoints, variant))
    latch.child.kill('SIGHUP')
    counts.reloads++
  }, RELOAD_MS)

  const killer = setInterval(async () => {
    const victim = upstreams[2]
    victim.child.kill('SIGKILL')
    counts.kills++
    await sleep(KILL_DOWN_MS)
    try {
      upstreams[2] = await startUpstream(victim.port)
    } catch (error) {
      process.stdout.write(`soak: could not restart the upstream on port ${victim.port}: ${error.message}\n`)
    }
  }, KILL_EVERY_MS)

  const snapshots = SNAPSHOT_AT_MS.map((ms) => setTimeout(() => {
    latch.child.kill('SIGUSR2')
    process.stdout.write(`soak: heap snapshot requested at ${(ms / 60_000).toFixed(1)} min (written into ${scratch})\n`)
  }, ms))

  const samples = []
  let lastReport = 0
  let metrics = { evictions: 0, connections: 0 }
  process.stdout.write('\n| minute | RSS MB | heap after last full GC MB | store evictions | client connections | sent | 2xx | non-2xx | errors | dropped (rate cap) |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n')
  try {
    while (Date.now() - started < DURATION_MS) {
      await sleep(SAMPLE_MS)
      if (latch.child.exitCode !== null || latch.child.signalCode !== null) throw new Error(`latch died (${latch.child.exitCode ?? latch.child.signalCode}):\n${latch.log.slice(-10).join('\n')}`)
      const t = Date.now() - started
      samples.push({ t, rssKb: rssKb(latch.child.pid) })
      if (t - lastReport >= 60_000 || Date.now() - started >= DURATION_MS) {
        lastReport = t
        const scrape = await get(`${latch.admin}/metrics`)
        if (scrape.text !== undefined) metrics = { evictions: metricSum(scrape.text, 'latch_store_evictions_total'), connections: metricSum(scrape.text, 'latch_client_connections') }
        if (storeFullAt === undefined && metrics.evictions > 0) storeFullAt = t
        const lastGc = latch.fullGcs.at(-1)
        process.stdout.write(`| ${(t / 60_000).toFixed(1)} | ${(samples.at(-1).rssKb / 1024).toFixed(1)} | ${lastGc === undefined ? '–' : lastGc.afterMb.toFixed(1)} | ${metrics.evictions} | ${metrics.connections} | ${counts.sent} | ${counts.ok} | ${counts.non2xx} | ${counts.errors} | ${counts.dropped} |\n`)
      }
    }
  } finally {
    clearInterval(load)
    clearInterval(reload)
    clearInterval(killer)
    for (const timer of snapshots) clearTimeout(timer)
  }
  await sleep(2000)
  agent.destroy()

  const from = Math.max(WARMUP_MS, (storeFullAt ?? Infinity) + SETTLE_MS)
  const measured = samples.filter((s) => s.t >= from).map((s) => ({ x: s.t / 3_600_000, y: s.rssKb / 1024 }))
  const rssMbPerHour = measured.length >= 3 ? slope(measured) : NaN
  const rss = measured.map((p) => p.y)
  // A heap snapshot forces a full GC of its own: those count like any other (the heap they leave is live).
  const heapAfterGc = latch.fullGcs
    .map((gc) => ({ x: (latch.spawnedAt + gc.isolateMs - started) / 3_600_000, y: gc.afterMb }))
    .filter((p) => p.x * 3_600_000 >= from && p.x * 3_600_000 <= DURATION_MS)
  const mbPerHour = heapAfterGc.length >= 3 ? slope(heapAfterGc) : NaN
  const heap = heapAfterGc.map((p) => p.y)
  process.stdout.write(`\nrequests: ${counts.sent} sent, ${counts.ok} 2xx, ${counts.non2xx} non-2xx, ${counts.errors} errors, ${counts.dropped} not sent (in-flight cap); ${counts.reloads} reloads, ${counts.kills} upstream kills${counts.lastError === undefined ? '' : `; last client error: ${counts.lastError}`}\n`)
  process.stdout.write(`full GCs (minute: heap MB after): ${latch.fullGcs.map((gc) => `${((latch.spawnedAt + gc.isolateMs - started) / 60_000).toFixed(1)}: ${gc.afterMb.toFixed(1)}`).join(', ')}\n`)
  process.stdout.write(`store full (first eviction) at ${storeFullAt === undefined ? 'never' : `${(storeFullAt / 60_000).toFixed(1)} min`}; slope from ${(from / 60_000).toFixed(1)} min over ${measured.length} samples\n`)
  if (rss.length > 0) process.stdout.write(`RSS after warm-up: ${Math.min(...rss).toFixed(1)}–${Math.max(...rss).toFixed(1)} MB, peak ${(Math.max(...samples.map((s) => s.rssKb)) / 1024).toFixed(1)} MB\n`)
  process.stdout.write(`RSS slope after warm-up: ${Number.isNaN(rssMbPerHour) ? 'n/a' : rssMbPerHour.toFixed(2)} MB/hour (informative)\n`)
  process.stdout.write(`full GCs: ${latch.fullGcs.length} in all, ${heap.length} after warm-up; heap after them: ${heap.length === 0 ? 'n/a' : `${Math.min(...heap).toFixed(1)}–${Math.max(...heap).toFixed(1)} MB, first ${heap[0].toFixed(1)}, last ${heap.at(-1).toFixed(1)}`}\n`)
  process.stdout.write(`heap-after-full-GC slope after warm-up: ${Number.isNaN(mbPerHour) ? 'n/a' : mbPerHour.toFixed(2)} MB/hour (limit ${MAX_SLOPE})\n`)
  if (KEEP) process.stdout.write(`kept: ${scratch}\n`)
  if (storeFullAt === undefined) {
    process.stdout.write('FAIL: the store never reached store.maxEntries (run longer or raise --rate)\n')
    return 1
  }
  if (!(mbPerHour <= MAX_SLOPE)) {
    process.stdout.write(`FAIL: the heap after full GCs ${Number.isNaN(mbPerHour) ? 'cannot be judged (fewer than 3 full GCs after the warm-up: run longer)' : `grows ${mbPerHour.toFixed(2)} MB/hour`}\n`)
    return 1
  }
  process.stdout.write('PASS\n')
  return 0
}

// Ctrl-C or a kill of the soak ends its children too (they are only ever this script's own).
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGKILL')
    if (!KEEP) rmSync(scratch, { recursive: true, force: true })
    process.exit(130)
  })
}

let exitCode = 1
try {
  exitCode = await main()
} catch (error) {
  process.stdout.write(`soak: ${error.stack ?? error}\n`)
} finally {
  for (const child of children) child.kill('SIGKILL')
  if (!KEEP) rmSync(scratch, { recursive: true, force: true })
}
process.exit(exitCode)
