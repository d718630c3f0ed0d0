#!/usr/bin/env node
/**
 * @module CPU cost of exporting spans, per span, in a process like Latch's: `record()` of span-export.js
 * fed with finished-request records at a steady rate, to an OTLP/HTTP sink in another process
 * (lib/otlp-sink-server.mjs, so its CPU is not counted). Each round measures this process's CPU time
 * (all threads) over the same number of records with export on and with the records made but not
 * recorded, alternating the order; the difference ÷ spans is the cost of one exported span. Ids and
 * records are made alike in both, so only recording, batching, serialising and sending are counted.
 *
 *   node bench/span-export-cost.mjs [--rounds 6] [--rate 15000] [--seconds 3]
 *
 * Bounded: rounds × 2 × seconds of work plus start-up. Needs `npm run build`.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { assertBuilt } from './lib/latch.mjs'

const { values: opts } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, rate: { type: 'string', default: '15000' }, seconds: { type: 'string', default: '3' } } })
const rounds = Number(opts.rounds)
const rate = Number(opts.rate)
const seconds = Number(opts.seconds)
assertBuilt()
const dist = join(import.meta.dirname, '..', 'dist', 'observability')
const { startSpanExport } = await import(join(dist, 'span-export.js'))
const { newSpanId, newTraceId } = await import(join(dist, 'trace-context.js'))

const port = await new Promise((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port: free } = server.address()
    server.close(() => resolve(free))
  })
})
const sink = spawn(process.execPath, [join(import.meta.dirname, 'lib', 'otlp-sink-server.mjs'), String(port), '120'], { stdio: ['pipe', 'pipe', 'inherit'] })
let sinkOut = ''
sink.stdout.on('data', (chunk) => (sinkOut += chunk))
while (!sinkOut.includes('listening')) await sleep(20)

const logger = { info() {}, warn(fields, message) { process.stderr.write(`${message}: ${fields.err}\n`) } }
const recorder = await startSpanExport({ serviceName: 'latch', startTraces: true, sampleRatio: 1, otlp: { endpoint: `http://127.0.0.1:${port}/v1/traces`, headers: {}, timeout: 10_000 } }, logger)

/** A finished request as the exchange presents it (fields of a round-robin GET). */
function finished(i) {
  return {
    traceId: newTraceId(), spanId: newSpanId(), parentSpanId: newSpanId(), traceFlags: 1, startedAt: performance.now() - 0.8, requestId: `9f3c0a1b2c3d4e5f-${i.toString(36)}`,
    method: 'GET', hostHeader: '127.0.0.1:8080', logPath: '/', status: 200, upstreamStatus: undefined, durationMs: 0.8, bytesOut: 100, routeDescription: 'defaultBackend',
    poolName: 'default', endpointId: '127.0.0.1:40001', attempts: 1, errorCode: undefined, clientIp: '127.0.0.1', affinityOutcome: undefined, httpVersion: '1.1',
  }
}

/** Makes `rate` records a second for `seconds` (in 10 ms ticks); records them when `exporting`. Returns CPU µs used. */
async function phase(exporting) {
  const perTick = Math.round(rate / 100)
  const ticks = seconds * 100
  const start = process.cpuUsage()
  let n = 0
  for (let tick = 0; tick < ticks; tick++) {
    const due = performance.now() + 10
    for (let i = 0; i < perTick; i++) {
      const request = finished(n++)
      if (exporting) recorder.record(request)
    }
    await sleep(Math.max(0, due - performance.now()))
  }
  // Let the last batch go out inside the measured window.
  await sleep(1100)
  const used = process.cpuUsage(start)
  return { cpuUs: used.user + used.system, records: n }
}

await phase(true) // warm-up: JIT, connections
const costs = []
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [true, false] : [false, true]
  const result = {}
  for (const exporting of order) result[exporting ? 'on' : 'off'] = await phase(exporting)
  const cost = (result.on.cpuUs - result.off.cpuUs) / result.on.records
  costs.push(cost)
  console.log(`round ${round + 1}: ${result.on.records} records; CPU on ${(result.on.cpuUs / 1000).toFixed(0)} ms, off ${(result.off.cpuUs / 1000).toFixed(0)} ms → ${cost.toFixed(2)} µs per exported span`)
}
await recorder.shutdown()
sink.kill('SIGTERM')
await sleep(200)
costs.sort((a, b) => a - b)
const median = costs.length % 2 === 1 ? costs[(costs.length - 1) / 2] : (costs[costs.length / 2 - 1] + costs[costs.length / 2]) / 2
console.log(`median ${median.toFixed(2)} µs of CPU per exported span (${rounds} rounds, ${rate} spans/s); ${sinkOut.trim().split('\n').at(-1)} received`)
