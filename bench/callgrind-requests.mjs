#!/usr/bin/env node
// Instructions per proxied request, counted by valgrind's callgrind: repeatable on a loaded machine,
// where req/s are not. Starts one Latch (quick mode, one pool of one node:http upstream, access log
// off, admin listener on so metrics observe every request) under `valgrind --tool=callgrind`, sends
// warm-up requests (not instrumented: `--instr-atstart=no`), turns instrumentation on and zeroes the
// counters (`callgrind_control -i on -z`), sends exactly --requests requests
// (keep-alive, --concurrency at a time), dumps the counters (`callgrind_control -d`) and prints the
// instructions (Ir) of the Latch process per request. Compare two builds with --dist.
//
// Run: npm run build && node bench/callgrind-requests.mjs [--dist DIR] [--requests N] [--warmup N]
// Needs valgrind (apt-get install valgrind). Under valgrind Node runs about 50× slower: keep N small.
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { Agent, createServer, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    dist: { type: 'string', default: resolve(import.meta.dirname, '../dist') },
    requests: { type: 'string', default: '2000' },
    warmup: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '4' },
  },
})
const REQUESTS = Number(values.requests)
const WARMUP = Number(values.warmup)
const CONCURRENCY = Number(values.concurrency)
const START_MS = 600_000

const upstream = createServer((req, res) => {
  req.resume()
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' })
  res.end('x'.repeat(100))
})
// Longer than any pause under valgrind, so Latch never reuses a connection the upstream is closing (a 502).
upstream.keepAliveTimeout = 120_000
await new Promise((done) => upstream.listen(0, '127.0.0.1', done))
const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`

const dir = mkdtempSync(join(tmpdir(), 'latch-callgrind-'))
const cli = join(resolve(values.dist), 'cli/main.js')
const latch = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${dir}/callgrind.out.%p`, process.execPath, cli, '--listen', '127.0.0.1:0', '--upstream', upstreamUrl, '--admin', '127.0.0.1:0', '--access-log', 'off', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] })
const port = await new Promise((done, fail) => {
  latch.once('error', fail)
  const timer = setTimeout(() => fail(new Error('Latch did not start under valgrind in time')), START_MS)
  let buffered = ''
  latch.stdout.on('data', (chunk) => {
    buffered += chunk
    const lines = buffered.split('\n')
    buffered = lines.pop() ?? ''
    for (const line of lines) {
      const record = JSON.parse(line)
      if (record.msg !== 'latch is serving') continue
      clearTimeout(timer)
      done(Number(String(record.listen[0]).split(':').at(-1)))
    }
  })
  latch.once('exit', (code) => fail(new Error(`Latch exited (${code}) before serving`)))
}).catch((error) => {
  latch.kill('SIGKILL')
  upstream.close()
  throw error
})

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY })
function get() {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = ''
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => (res.statusCode === 200 ? done() : fail(new Error(`status ${res.statusCode}: ${body.slice(0, 300)}`))))
    })
    req.on('error', fail)
    req.end()
  })
}
async function send(count) {
  let next = 0
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      next++
      await get()
    }
  }))
}
function control(flag) {
  return new Promise((done, fail) => {
    const child = spawn('callgrind_control', [flag, String(latch.pid)], { stdio: 'ignore' })
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`callgrind_control ${flag} exited ${code}`))))
  })
}

try {
  await send(WARMUP)
  // Instrumentation starts only now: start-up and warm-up run at valgrind's plain speed.
  await control('--instr=on')
  await control('-z')
  const started = Date.now()
  await send(REQUESTS)
  const seconds = (Date.now() - started) / 1000
  await control('-d')
  // The dump holds `summary: <Ir>` (or `totals:`) for the counters since -z.
  const dumps = readdirSync(dir).filter((name) => name.startsWith('callgrind.out.')).map((name) => readFileSync(join(dir, name), 'utf8'))
  const totals = dumps.map((text) => Number(/^(?:summary|totals): (\d+)/m.exec(text)?.[1] ?? Number.NaN)).filter((value) => value > 0)
  const ir = Math.min(...totals)
  console.log(JSON.stringify({ dist: values.dist, node: process.version, requests: REQUESTS, warmup: WARMUP, concurrency: CONCURRENCY, irTotal: ir, irPerRequest: Math.round(ir / REQUESTS), seconds }))
} finally {
  agent.destroy()
  latch.kill('SIGTERM')
  await new Promise((done) => latch.once('exit', done))
  upstream.close()
  rmSync(dir, { recursive: true, force: true })
}
