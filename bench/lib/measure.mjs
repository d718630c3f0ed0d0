/**
 * @module One measurement: direct to an upstream, or one scenario through Latch (start, probe, warm up, measure,
 * sample /proc over the measured window, stop, check).
 */
import { createReadStream, rmSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { runLoad } from './loadgen.mjs'
import { latchArgs, startLatch } from './latch.mjs'
import { startRedisServer } from './redis.mjs'
import { clockTicksPerSecond, cpuCounters, cpuTicks, statusKb, stopProcess } from './processes.mjs'
import { sequentialProbe } from './probe.mjs'
import { SHAPES } from './request-shapes.mjs'
import { latchCpus, SCENARIOS } from './scenarios.mjs'

const PROBE_REQUESTS = 30

function sample(env, pid) {
  return { at: performance.now(), ticks: pid === undefined ? undefined : cpuTicks(pid), loadgenCpu: cpuCounters(env.loadgenCpu) }
}

/** CPU figures over the window between two samples: Latch CPU % (100 = one core) and load-generator core busy %. */
function windowFigures(env, start, end) {
  const seconds = (end.at - start.at) / 1000
  const latchCpuPct = start.ticks === undefined || end.ticks === undefined ? undefined : ((end.ticks - start.ticks) / clockTicksPerSecond() / seconds) * 100
  const a = start.loadgenCpu
  const b = end.loadgenCpu
  const loadgenCpuPct = !env.pinned || a === undefined || b === undefined ? undefined : ((b.busy - a.busy) / (b.total - a.total)) * 100
  return { windowS: seconds, latchCpuPct, loadgenCpuPct }
}

/** Warm-up (figures discarded), then the measured load with /proc samples at its exact start and end. */
async function warmAndMeasure(env, url, shape, label, pid, preamble = undefined) {
  const common = { url, connections: env.connections, shape, preamble, cpu: env.loadgenCpuPin, label }
  if (env.warmup > 0) await runLoad(env.loadgen, { ...common, durationS: env.warmup, label: `${label} warm-up` })
  let start
  let end
  const load = await runLoad(env.loadgen, { ...common, durationS: env.duration }, {
    onStart: () => (start = sample(env, pid)),
    onEnd: () => (end = sample(env, pid)),
  })
  return { load, ...windowFigures(env, start, end) }
}

/** Direct figure: the load generator straight at upstream u1, with the given request shape. */
export async function measureDirect(env, shape, repeat) {
  const base = { repeat, target: 'direct', scenario: undefined, shape }
  try {
    const figures = await warmAndMeasure(env, `${env.upstreams.urls[0]}/`, shape, `direct-${shape}-r${repeat}`, undefined)
    return { ...base, ok: true, ...figures, checks: [] }
  } catch (error) {
    return { ...base, ok: false, error: error.message }
  }
}

function countLines(file) {
  return new Promise((resolve) => {
    let lines = 0
    createReadStream(file)
      .on('data', (chunk) => {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++
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
  const ctx = {
    upstreams: env.upstreams.urls,
    accessLogFile: join(env.dir, `${label}.access.log`),
    tmpFile: (file) => join(env.dir, `${label}.${file}`),
    redisUrl: () => redis.url,
  }
  const base = { repeat, target: 'latch', scenario: name, shape: scenario.shape }
  let latch
  try {
    if (scenario.redis === true) redis = await startRedisServer({ cpu: env.loadgenCpuPin, logFile: join(env.dir, `${label}.redis.log`) })
    const args = latchArgs(scenario, ctx, env.dir, label)
    base.latchArgs = args.map(env.redact)
    latch = await startLatch(args, { cpu: latchCpus(scenario, env), dir: env.dir, label, preamble: scenario.preamble })
    const probe = { ...(await sequentialProbe(latch.url, PROBE_REQUESTS, SHAPES[scenario.shape].probeHeaders, scenario.preamble)), expectedUpstreams: env.upstreams.urls.length }
    const figures = await warmAndMeasure(env, latch.url, scenario.shape, label, latch.record.pid, scenario.preamble)
    const peakRssKb = statusKb(latch.record.pid, 'VmHWM')
    await stopProcess(latch.record, 10_000)
    const accessLogLines = await countLines(ctx.accessLogFile)
    if (!env.keep) rmSync(ctx.accessLogFile, { force: true })
    const evidence = { probe, load: figures.load, accessLogLines, exit: latch.record.exit }
    const checks = scenario.checks.map((check) => check(evidence))
    return { ...base, ok: true, ...figures, peakRssKb, probe, accessLogLines, exit: latch.record.exit, checks }
  } catch (error) {
    return { ...base, ok: false, error: error.message }
  } finally {
    await stopProcess(latch?.record)
    await stopProcess(redis?.record)
  }
}
