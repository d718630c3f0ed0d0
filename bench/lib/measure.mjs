/**
 * @module One measurement: one scenario through a fresh Latch (start, probe, warm up, measure, sample /proc over
 * the measured window, stop, check).
 */
import { createReadStream, rmSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runLoad } from './loadgen.mjs'
import { latchArgs, startLatch } from './latch.mjs'
import { startRedisServer } from './redis.mjs'
import { startOtlpSink } from './otlp-sink.mjs'
import { clockTicksPerSecond, cpuCounters, cpuTicks, statusKb, stopProcess } from './processes.mjs'
import { sequentialProbe } from './probe.mjs'
import { SHAPES } from './request-shapes.mjs'
import { latchCpus, SCENARIOS } from './scenarios.mjs'

const PROBE_REQUESTS = 30

/** CPU ticks of every process of interest, and the load-generator CPU's counters, at one moment. */
function sample(env, pids) {
  const ticks = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, pid === undefined ? undefined : cpuTicks(pid)]))
  return { at: performance.now(), ticks, loadgenCore: cpuCounters(env.loadgenCpu) }
}

/**
 * CPU figures over the window between two samples, in % of one core: Latch; the load generator alone; the
 * load side (load generator + upstreams + redis-server, everything on the load generator's CPU that belongs to
 * the bench); and how busy that CPU was in all (other processes of the machine included).
 */
function windowFigures(env, start, end) {
  const seconds = (end.at - start.at) / 1000
  const pct = (name) => {
    const a = start.ticks[name]
    const b = end.ticks[name]
    return a === undefined || b === undefined ? undefined : ((b - a) / clockTicksPerSecond() / seconds) * 100
  }
  const parts = ['loadgen', 'upstreams', 'redis'].map(pct)
  const loadSideCpuPct = parts[0] === undefined ? undefined : parts.reduce((sum, value) => sum + (value ?? 0), 0)
  const a = start.loadgenCore
  const b = end.loadgenCore
  const loadgenCoreBusyPct = !env.pinned || a === undefined || b === undefined ? undefined : ((b.busy - a.busy) / (b.total - a.total)) * 100
  return { windowS: seconds, latchCpuPct: pct('latch'), loadgenCpuPct: parts[0], upstreamsCpuPct: parts[1], redisCpuPct: parts[2], loadSideCpuPct, loadgenCoreBusyPct }
}

/** Warm-up (figures discarded), then the measured load with /proc samples at its exact start and end. */
async function warmAndMeasure(env, url, shape, label, pids, preamble = undefined) {
  const common = { url, connections: env.connections, shape, preamble, cpu: env.loadgenCpuPin, label }
  if (env.warmup > 0) await runLoad(env.loadgen, { ...common, durationS: env.warmup, label: `${label} warm-up` })
  let start
  let end
  const load = await runLoad(env.loadgen, { ...common, durationS: env.duration }, {
    onStart: (loadgen) => (start = sample(env, { ...pids, loadgen })),
    onEnd: (loadgen) => (end = sample(env, { ...pids, loadgen })),
  })
  return { load, ...windowFigures(env, start, end) }
}

/** Lines of `file` (all of them, or those containing `marker`). */
function countLines(file, marker) {
  return new Promise((resolve) => {
    let lines = 0
    let rest = ''
    createReadStream(file, 'latin1')
      .on('data', (chunk) => {
        const text = rest + chunk
        const parts = text.split('\n')
        rest = parts.pop()
        for (const line of parts) if (marker === undefined || line.includes(marker)) lines++
      })
      .on('end', () => resolve(lines))
      .on('error', () => resolve(0))
  })
}

/** Latch figure for one scenario: a fresh Latch process per run. */
export async function measureLatch(env, name, repeat) {
  const scenario = SCENARIOS[name]
  const label = `${name}-r${repeat}`
  let redis
  let sink
  const ctx = {
    upstreams: env.upstreams.urls,
    accessLogFile: join(env.dir, `${label}.access.log`),
    tmpFile: (file) => join(env.dir, `${label}.${file}`),
    redisUrl: () => redis.url,
    otlpUrl: () => sink.url,
  }
  const base = { repeat, target: 'latch', scenario: name, shape: scenario.shape }
  let latch
  try {
    if (scenario.redis === true) redis = await startRedisServer({ cpu: env.loadgenCpuPin, logFile: join(env.dir, `${label}.redis.log`) })
    if (scenario.otlpSink === true) sink = await startOtlpSink({ cpu: env.loadgenCpuPin, logFile: join(env.dir, `${label}.otlp-sink.log`) })
    const args = latchArgs(scenario, ctx, env.dir, label)
    base.latchArgs = args.map(env.redact)
    const shape = SHAPES[scenario.shape]
    const ready = shape.path === undefined ? undefined : { path: shape.path, headers: shape.probeHeaders(0) }
    latch = await startLatch(args, { cpu: latchCpus(scenario, env), dir: env.dir, label, preamble: scenario.preamble, ready })
    // A shape with a `path` (the routing scenarios) is probed and loaded on that path.
    const url = shape.path === undefined ? latch.url : new URL(shape.path, latch.url).href
    const probe = { ...(await sequentialProbe(url, PROBE_REQUESTS, shape.probeHeaders, scenario.preamble)), expectedUpstreams: env.upstreams.urls.length }
    // The sink counts with the load side (as redis-server does): it runs on the load generator's CPU.
    const pids = { latch: latch.record.pid, upstreams: env.upstreams.record.pid, redis: redis?.record.pid ?? sink?.record.pid }
    const figures = await warmAndMeasure(env, url, scenario.shape, label, pids, scenario.preamble)
    const peakRssKb = statusKb(latch.record.pid, 'VmHWM')
    await stopProcess(latch.record, 10_000)
    // The access log is in its own file, or in Latch's stdout (the bench's Latch log file) with the process log.
    const accessLogLines = scenario.accessLogIn === 'stdout' ? await countLines(latch.record.logFile, '{"log":"access"') : await countLines(ctx.accessLogFile)
    if (!env.keep) rmSync(ctx.accessLogFile, { force: true })
    // A stdout access log makes the Latch log tens of MB a run; it has served its purpose once counted.
    if (!env.keep && scenario.accessLogIn === 'stdout' && latch.record.exit?.code === 0) rmSync(latch.record.logFile, { force: true })
    // Latch sends its last spans at shutdown; the sink has written its total within a second of them.
    if (sink !== undefined) await new Promise((resolve) => setTimeout(resolve, 1100))
    const evidence = { probe, load: figures.load, accessLogLines, exit: latch.record.exit, spansExported: sink?.spans() }
    const checks = scenario.checks.map((check) => check(evidence))
    return { ...base, ok: true, ...figures, peakRssKb, probe, accessLogLines, exit: latch.record.exit, checks }
  } catch (error) {
    return { ...base, ok: false, error: error.message }
  } finally {
    await stopProcess(latch?.record)
    await stopProcess(redis?.record)
    await stopProcess(sink?.record)
  }
}
