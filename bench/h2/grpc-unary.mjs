#!/usr/bin/env node
// gRPC unary calls through Latch (h2c listener → h2c pool) vs straight to the server, with h2load
// (nghttp2's C load generator: `apt-get install nghttp2-client`) sending gRPC-shaped POSTs
// (content-type application/grpc, te: trailers, one length-prefixed message) to grpc-shaped-server.mjs.
// Latch is pinned to CPU 0, the server and h2load to CPU 1; rounds alternate the order (direct, latch /
// latch, direct). Reports calls/s, through ÷ direct per round and its median, h2load's CPU % of its
// core, non-2xx answers, and Latch's CPU µs per call (warm-up second included, so a slight overestimate):
// on a machine shared with other work, that is the figure to compare, as calls/s then follow the CPU
// share Latch gets. Usage: node bench/h2/grpc-unary.mjs [--rounds 3] [--duration 6]
// [--clients 16] [--streams 16]   (rounds × 2 × duration ≤ 50 s; needs dist/: npm run build)
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { assertBuilt, CLI } from '../lib/latch.mjs'
import { clockTicksPerSecond, cpuTicks, spawnTracked, stopAll } from '../lib/processes.mjs'
import { waitForLogValue } from '../lib/probe.mjs'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '6' }, clients: { type: 'string', default: '16' }, streams: { type: 'string', default: '16' } } })
const rounds = Number(values.rounds)
const duration = Number(values.duration)
if (rounds * 2 * duration > 50) throw new Error('rounds × 2 × duration must stay at or under 50 s')
if (spawnSync('h2load', ['--version']).error !== undefined) throw new Error('h2load is not on PATH (Debian/Ubuntu: apt-get install nghttp2-client)')
assertBuilt()

const dir = mkdtempSync(join(tmpdir(), 'latch-grpc-bench-'))
const body = join(dir, 'request.bin')
writeFileSync(body, Buffer.concat([Buffer.from([0, 0, 0, 0, 32]), Buffer.alloc(32, 2)]))

const server = spawn('taskset', ['-c', '1', process.execPath, new URL('./grpc-shaped-server.mjs', import.meta.url).pathname], { stdio: ['ignore', 'pipe', 'inherit'] })
const serverPort = await new Promise((resolve) => server.stdout.once('data', (chunk) => resolve(JSON.parse(chunk.toString()).port)))

const config = join(dir, 'latch.json')
writeFileSync(config, JSON.stringify({
  listen: { address: '127.0.0.1:0', http2: 'h2c' },
  admin: { listen: false },
  log: { access: 'off' },
  pools: [{ name: 'grpc', protocol: 'h2c', endpoints: [`http://127.0.0.1:${serverPort}`] }],
}))
const latch = spawnTracked('latch', process.execPath, [CLI, '--config', config], { cpu: 0, logFile: join(dir, 'latch.log') })
const latchAddress = await waitForLogValue(latch, (line) => (line.msg === 'latch is serving' ? line.listen?.[0] : undefined), 20_000)

/** One h2load run on CPU 1; its CPU time comes from bash's `times` (children's user and system time). */
function h2load(address, seconds) {
  const args = ['-c', values.clients, '-m', values.streams, '-D', String(seconds), '--warm-up-time=1', '-d', body, '-H', 'content-type: application/grpc', '-H', 'te: trailers', `http://${address}/bench.Echo/Unary`]
  const run = spawnSync('taskset', ['-c', '1', 'bash', '-c', 'h2load "$@"; times', 'h2load', ...args], { encoding: 'utf8' })
  const out = run.stdout
  const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(out)?.[1])
  const [, succeeded = '0', failed = '0'] = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(out) ?? []
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out)
  const times = out.trim().split('\n').at(-1).split(/\s+/).map((t) => { const m = /(\d+)m([\d.]+)s/.exec(t); return Number(m[1]) * 60 + Number(m[2]) })
  const cpuSeconds = (times[0] ?? 0) + (times[1] ?? 0)
  return { rps, succeeded: Number(succeeded), failed: Number(failed), non2xx: codes === null ? NaN : Number(codes[2]) + Number(codes[3]) + Number(codes[4]), loadgenCpuPercent: Math.round((100 * cpuSeconds) / (seconds + 1)) }
}

const targets = { direct: `127.0.0.1:${serverPort}`, latch: latchAddress }
h2load(latchAddress, 2) // warm Latch up (JIT, connection)
const ratios = []
for (let round = 1; round <= rounds; round++) {
  const order = round % 2 === 1 ? ['direct', 'latch'] : ['latch', 'direct']
  const result = {}
  for (const name of order) {
    const ticks = cpuTicks(latch.pid)
    result[name] = h2load(targets[name], duration)
    if (name === 'latch') {
      const calls = result[name].succeeded
      result[name].latchCpuMicrosPerCall = Math.round(((cpuTicks(latch.pid) - ticks) / clockTicksPerSecond()) * 1e6 / calls)
    }
    console.log(JSON.stringify({ round, target: name, ...result[name] }))
  }
  ratios.push(result.latch.rps / result.direct.rps)
}
const sorted = [...ratios].sort((a, b) => a - b)
console.log(`median latch ÷ direct calls/s: ${sorted[Math.floor(sorted.length / 2)].toFixed(3)} (per round: ${ratios.map((r) => r.toFixed(3)).join(', ')})`)
server.kill()
await stopAll()
