/**
 * @module Runs one bounded load (wrk, or the autocannon worker) in its own pinned process and normalises its figures.
 *
 * `onStart(pid)` is called when the load actually begins and `onEnd(pid)` as soon as it is over, with the load
 * generator's PID still alive, so the caller can sample /proc (the load generator's own CPU included) over
 * exactly the measured window.
 */
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { SHAPES } from './request-shapes.mjs'
import { spawnTracked, stopProcess } from './processes.mjs'

const WORKER = new URL('./autocannon-worker.mjs', import.meta.url).pathname
const WRK_SCRIPT = new URL('./wrk-shapes.lua', import.meta.url).pathname
/** Per-request timeout of both tools. */
const REQUEST_TIMEOUT_S = 2
/** How long a run may take beyond its duration before it is killed. */
const GRACE_S = 20

/** How to get wrk, said in one line when it is missing. */
export const WRK_INSTALL_HINT = 'wrk is not on PATH: install it (Debian/Ubuntu: apt-get install wrk; Fedora: dnf install wrk; macOS: brew install wrk), or pass --loadgen autocannon (which saturates before Latch does)'

/** Version string of a load generator, for the JSON. */
export function loadgenVersion(tool) {
  if (tool === 'wrk') return (spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout ?? '').split('\n')[0].trim()
  return `autocannon ${createRequire(import.meta.url)('autocannon/package.json').version}`
}

function commandFor(tool, { url, connections, durationS, shape, preamble }) {
  if (tool === 'wrk') {
    if (preamble !== undefined) throw new Error(`the ${preamble} preamble needs --loadgen autocannon`)
    const args = ['-t1', `-c${connections}`, `-d${durationS}s`, '--latency', '--timeout', `${REQUEST_TIMEOUT_S}s`, '-s', WRK_SCRIPT, url, '--', ...SHAPES[shape].wrk]
    return { command: 'wrk', args, stdin: 'ignore' }
  }
  const spec = { url, connections, duration: durationS, timeoutS: REQUEST_TIMEOUT_S, shape, preamble }
  return { command: process.execPath, args: [WORKER, JSON.stringify(spec)], stdin: 'pipe' }
}

function normalise(tool, parsed) {
  if (tool === 'wrk') {
    const w = parsed.wrk
    const errors = w.connectErrors + w.readErrors + w.writeErrors + w.timeouts
    const shapeStats = w.responses > 0 ? { responses: w.responses, broken: w.broken, clientsSeen: w.clientsSeen, unknown: w.unknown, cookiesSet: w.cookiesSet, upstreams: w.upstreams } : undefined
    return { requests: w.requests, durationS: w.durationUs / 1e6, p50Ms: w.p50Us / 1000, p99Ms: w.p99Us / 1000, errors, non2xx: w.statusErrors, shapeStats }
  }
  return parsed.result
}

/** Runs `tool` against `url`; resolves the normalised result (with `rps`), rejects on failure or overrun. */
export function runLoad(tool, options, { onStart = () => {}, onEnd = () => {} } = {}) {
  const { command, args, stdin } = commandFor(tool, options)
  const record = spawnTracked(`${tool} (${options.label})`, command, args, { cpu: options.cpu, pipeOutput: true, stdin })
  if (tool === 'wrk') onStart(record.pid)
  let stdout = ''
  let stderr = ''
  let result
  record.child.stdout.on('data', (chunk) => {
    stdout += chunk
    let newline
    while ((newline = stdout.indexOf('\n')) !== -1) {
      const line = stdout.slice(0, newline)
      stdout = stdout.slice(newline + 1)
      if (line === '{"event":"start"}') onStart(record.pid)
      else if (line.startsWith('{"event":"done"') || line.startsWith('{"wrk":')) {
        onEnd(record.pid)
        result = normalise(tool, JSON.parse(line))
      }
    }
  })
  record.child.stderr.on('data', (chunk) => (stderr = (stderr + chunk).slice(-4000)))
  const timer = setTimeout(() => void stopProcess(record, 1000), (options.durationS + GRACE_S) * 1000)
  return record.exited.then((exit) => {
    clearTimeout(timer)
    if (result === undefined) throw new Error(`${record.name} gave no result (exit ${JSON.stringify(exit)})\n${stderr.trim()}`)
    return { ...result, rps: result.requests / result.durationS }
  })
}
