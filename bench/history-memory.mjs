#!/usr/bin/env node
// Memory of the dashboard's history (src/observability/pool-history.ts): 100 pools × 20 endpoints,
// sampled every 2 s for 1 hour (1,800 samples, clock simulated), counters growing as under load.
// Prints the memory retained by the history (heap + typed-array buffers, after GC) at a few points:
// it must stop growing once the 15-minute ring is full. Then the same for the per-endpoint latency
// windows (src/observability/endpoint-latency.ts): one per endpoint, 2,000 here, fed for an hour of
// 10-s intervals (clock simulated). Run: npm run build && node --expose-gc bench/history-memory.mjs
import { poolCounters } from '../dist/observability/pool-counters.js'
import { DURATION_BUCKETS } from '../dist/observability/metrics-requests.js'
import { HISTORY_INTERVAL_MS, HISTORY_SAMPLES, PoolHistory } from '../dist/observability/pool-history.js'
import { LATENCY_SLOT_MS, LATENCY_SLOTS, LatencyWindow } from '../dist/observability/endpoint-latency.js'

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc')
  process.exit(2)
}
const POOLS = 100
const ENDPOINTS = 20
const SAMPLES = 3600 / (HISTORY_INTERVAL_MS / 1000)

function retained() {
  globalThis.gc()
  globalThis.gc()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

// Pool-like objects: poolCounters reads only name and each endpoint's total and failuresTotal.
const pools = Array.from({ length: POOLS }, (_, p) => ({ name: `pool-${p}`, endpoints: Array.from({ length: ENDPOINTS }, () => ({ total: 0, failuresTotal: 0 })) }))
const buckets = new Map(pools.map((pool) => [pool.name, DURATION_BUCKETS.map(() => 0).concat(0)]))

function advance() {
  for (const pool of pools) {
    for (const endpoint of pool.endpoints) {
      endpoint.total += 50 + Math.floor(Math.random() * 50)
      endpoint.failuresTotal += Math.random() < 0.1 ? 1 : 0
    }
    const counts = buckets.get(pool.name)
    let cumulative = 0
    for (let i = 0; i < counts.length; i++) counts[i] += cumulative += Math.floor(Math.random() * 100)
  }
}

// Per-endpoint latency windows first (measured before the history leaves garbage behind): 20 requests per endpoint per 10-s interval, durations spread over the buckets.
const INTERVALS = 3600_000 / LATENCY_SLOT_MS
const REQUESTS_PER_INTERVAL = 20
const clock = { interval: 0 }
const latencyBaseline = retained()
const windows = Array.from({ length: POOLS * ENDPOINTS }, () => new LatencyWindow(clock))
const latencyReport = []
for (let interval = 1; interval <= INTERVALS; interval++) {
  clock.interval = interval
  for (const window of windows) for (let i = 0; i < REQUESTS_PER_INTERVAL; i++) window.record(Math.random() ** 3 * 2000)
  if ([1, LATENCY_SLOTS, INTERVALS / 2, INTERVALS].includes(interval)) latencyReport.push({ interval, minutes: (interval * LATENCY_SLOT_MS) / 60000, retainedKB: Math.round((retained() - latencyBaseline) / 1024) })
}
const latencyBytes = retained() - latencyBaseline

const baseline = retained()
const history = new PoolHistory()
let now = Date.UTC(2026, 0, 1)
const report = []
for (let sample = 1; sample <= SAMPLES; sample++) {
  advance()
  history.record(now, poolCounters(pools, new Map([...buckets].map(([name, counts]) => [name, [...counts]]))))
  now += HISTORY_INTERVAL_MS
  if ([1, HISTORY_SAMPLES / 2, HISTORY_SAMPLES, SAMPLES / 2, SAMPLES].includes(sample)) report.push({ sample, minutes: (sample * HISTORY_INTERVAL_MS) / 60000, retainedKB: Math.round((retained() - baseline) / 1024) })
}
const view = JSON.stringify(history.view())

const readings = JSON.stringify(windows.map((window) => window.reading()))
console.log(JSON.stringify({
  node: process.version, pools: POOLS, endpointsPerPool: ENDPOINTS, samples: SAMPLES, ringSamples: HISTORY_SAMPLES, report, historyJsonKB: Math.round(Buffer.byteLength(view) / 1024),
  latency: { windows: windows.length, intervals: INTERVALS, slots: LATENCY_SLOTS, report: latencyReport, bytesPerEndpoint: Math.round(latencyBytes / windows.length), readingsJsonKB: Math.round(Buffer.byteLength(readings) / 1024) },
}, null, 2))
