/**
 * @module Child processes of the benchmark: pinned spawn, bookkeeping by PID, /proc figures, and stopping.
 *
 * Every process the benchmark starts goes through `spawnTracked`, so `stopAll` / `killAllSync` can end exactly
 * those (and their descendants, e.g. nginx workers) by PID on normal exit, error or Ctrl-C — never by name.
 */
import { spawn, spawnSync } from 'node:child_process'
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'

/** Live children by PID. */
const tracked = new Map()
/** Set once shutdown begins: nothing new may start while (or after) everything is being stopped. */
let closing = false

/** Whether `taskset` exists and the machine has the CPUs asked for; decided once. */
export function pinningSupport(cpus) {
  const hasTaskset = spawnSync('sh', ['-c', 'command -v taskset'], { stdio: 'ignore' }).status === 0
  if (!hasTaskset) return { pinned: false, reason: 'taskset not found' }
  const needed = Math.max(...cpus) + 1
  if (availableParallelism() < needed) return { pinned: false, reason: `only ${availableParallelism()} CPU(s); pinning needs ${needed}` }
  return { pinned: true, reason: undefined }
}

/**
 * Spawns `command args`, with `taskset -c cpu` in front when `cpu` is a number (taskset execs, so the PID is the
 * command's own). stdout and stderr go to `logFile` (appended), or to pipes with `pipeOutput`; `stdin: 'pipe'`
 * gives a child that can notice this process dying (its stdin closes).
 */
export function spawnTracked(name, command, args, { cpu, logFile, pipeOutput, stdin, env, cwd } = {}) {
  if (closing) throw new Error(`not starting ${name}: the benchmark is stopping`)
  const [file, argv] = cpu === undefined ? [command, args] : ['taskset', ['-c', String(cpu), command, ...args]]
  const out = pipeOutput === true ? 'pipe' : logFile === undefined ? 'ignore' : openSync(logFile, 'a')
  const child = spawn(file, argv, { stdio: [stdin ?? 'ignore', out, out], env: env ?? process.env, cwd })
  if (typeof out === 'number') closeSync(out)
  // The pipe is only there to close when this process dies; a write error on it must not crash the bench.
  child.stdin?.on('error', () => {})
  const record = { name, child, pid: child.pid, logFile, exit: undefined }
  record.exited = new Promise((resolve) => {
    const done = (code, signal, error) => {
      record.exit ??= { code, signal, error: error?.message }
      tracked.delete(child.pid)
      resolve(record.exit)
    }
    child.on('exit', (code, signal) => done(code, signal))
    child.on('error', (error) => done(null, null, error))
  })
  if (child.pid !== undefined) tracked.set(child.pid, record)
  return record
}

function readStat(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after "(comm)": state(3) ppid(4) ... utime(14) stime(15).
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return { state: rest[0], ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) }
  } catch {
    return undefined
  }
}

/** `pid` and its descendants (found through the parent PID in /proc), parents first. */
export function processTree(pid) {
  const children = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = readStat(entry)
    if (stat === undefined) continue
    children.set(stat.ppid, [...(children.get(stat.ppid) ?? []), Number(entry)])
  }
  const out = []
  const queue = [pid]
  while (queue.length > 0) {
    const next = queue.shift()
    if (readStat(next) === undefined) continue
    out.push(next)
    queue.push(...(children.get(next) ?? []))
  }
  return out
}

let clockTicks
/** Kernel clock ticks per second (the unit of utime/stime), 100 when `getconf` is missing. */
export function clockTicksPerSecond() {
  clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100
  return clockTicks
}

/**
 * utime + stime (ticks) of one process and its live children (the worker processes of `--workers N`),
 * undefined when it is gone.
 */
export function cpuTicks(pid) {
  const own = readStat(pid)?.ticks
  if (own === undefined) return undefined
  return childrenOf(pid).reduce((sum, child) => sum + (readStat(child)?.ticks ?? 0), own)
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((id) => id !== '').map(Number)
  } catch {
    return []
  }
}

/** A `Vm*` field of /proc/PID/status in kB (VmHWM = peak RSS), undefined when unreadable. */
export function statusKb(pid, field) {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match === null ? undefined : Number(match[1])
  } catch {
    return undefined
  }
}

/** Busy and total jiffies of one CPU from /proc/stat, undefined without /proc. */
export function cpuCounters(cpu) {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith(`cpu${cpu} `))
    const values = line.trim().split(/\s+/).slice(1, 9).map(Number)
    const total = values.reduce((a, b) => a + b, 0)
    return { busy: total - values[3] - values[4], total }
  } catch {
    return undefined
  }
}

function alive(pid) {
  const stat = readStat(pid)
  return stat !== undefined && stat.state !== 'Z'
}

function signalAll(pids, signal) {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // Already gone.
    }
  }
}

/** Stops one started process and its descendants: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(record, graceMs = 5000) {
  if (record === undefined || record.exit !== undefined || record.pid === undefined) return
  const pids = processTree(record.pid)
  signalAll(pids, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && pids.some(alive)) await sleep(25)
  signalAll(pids.filter(alive), 'SIGKILL')
  await Promise.race([record.exited, sleep(2000)])
}

/** Stops every process still running, newest first. */
export async function stopAll(graceMs = 3000) {
  closing = true
  for (const record of [...tracked.values()].reverse()) await stopProcess(record, graceMs)
}

/** Last-resort synchronous kill (the `exit` event cannot wait): SIGKILL every tracked tree, children first. */
export function killAllSync() {
  closing = true
  for (const pid of [...tracked.keys()].reverse()) signalAll(processTree(pid).reverse(), 'SIGKILL')
  tracked.clear()
}
