#!/usr/bin/env node
// Memory of the dashboard's history (src/observability/pool-history.ts): 100 pools × 20 endpoints,
// sampled every 2 s for 1 hour (1,800 samples, clock simulated), counters growing as under load.
// Prints the memory retained by the history (heap + typed-array buffers, after GC) at a few points:
// it must stop growing once the 15-minute ring is full. Run: npm run build && node --expose-gc bench/history-memory.mjs
import { poolCounters } from '../dist/observability/pool-counters.js'
import { DURATION_BUCKETS } from '../dist/observability/metrics-requests.js'
import { HISTORY_INTERVAL_MS, HISTORY_SAMPLES, PoolHistory } from '../dist/observability/pool-history.js'

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
console.log(JSON.stringify({ node: process.version, pools: POOLS, endpointsPerPool: ENDPOINTS, samples: SAMPLES, ringSamples: HISTORY_SAMPLES, report, historyJsonKB: Math.round(Buffer.byteLength(view) / 1024) }, null, 2))
