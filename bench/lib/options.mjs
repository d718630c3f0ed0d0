/**
 * @module Command-line options of `npm run bench` / `node bench/run.mjs`, with validation and usage text.
 */
import { parseArgs } from 'node:util'
import { SCENARIOS } from './scenarios.mjs'

/** `node bench/run.mjs --help`. */
export const USAGE = `Latch benchmark: scenarios side by side, interleaved, ratios per repeat.

Usage: npm run bench -- [options]        (builds first)
       node bench/run.mjs [options]      (uses the existing dist/)

  --scenario LIST     comma-separated, or "all"; default rr,rr-log. Runnable: ${Object.keys(SCENARIOS).join(', ')}
  --duration S        measured seconds per run (default 6)
  --warmup S          warm-up seconds before each measured run (default 2; 0 = none)
  --connections N     concurrent connections of the load generator (default 64)
  --repeat N          repeats; figures are medians over them (default 5)
  --loadgen TOOL      wrk (default; needs wrk on PATH) | autocannon (saturates before Latch does)
  --upstream KIND     auto (default: nginx when on PATH, else node) | nginx | node (node:http servers)
  --max-loadgen-cpu P a ratio is refused when a run's load side (load generator + upstreams) used more
                      than P % of its CPU (default 90)
  --proxy-cpu N       CPU for Latch (default 0)
  --loadgen-cpu N     CPU for the load generator and the upstreams (default 1)
  --out DIR           where the JSON result goes (default bench/results)
  --keep              keep the scratch folder (logs, configs, access logs) and print its path
  -h, --help          this text`

/** A command line that cannot be understood; exit code 2. */
export class UsageError extends Error {}

const SPEC = {
  scenario: { type: 'string', default: 'rr,rr-log' },
  duration: { type: 'string', default: '6' },
  warmup: { type: 'string', default: '2' },
  connections: { type: 'string', default: '64' },
  repeat: { type: 'string', default: '5' },
  loadgen: { type: 'string', default: 'wrk' },
  upstream: { type: 'string', default: 'auto' },
  'max-loadgen-cpu': { type: 'string', default: '90' },
  'proxy-cpu': { type: 'string', default: '0' },
  'loadgen-cpu': { type: 'string', default: '1' },
  out: { type: 'string', default: 'bench/results' },
  keep: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
}

function integer(name, text, min, max) {
  const value = Number(text)
  if (!Number.isInteger(value) || value < min || value > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${text}"`)
  return value
}

function oneOf(name, text, allowed) {
  if (!allowed.includes(text)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${text}"`)
  return text
}

function scenarioList(text) {
  const names = text === 'all' ? Object.keys(SCENARIOS) : text.split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (names.length === 0) throw new UsageError('--scenario is empty')
  for (const name of names) {
    if (SCENARIOS[name] === undefined) throw new UsageError(`unknown scenario "${name}" — runnable: ${Object.keys(SCENARIOS).join(', ')}`)
  }
  return [...new Set(names)]
}

/** Parses argv (without node and script); throws UsageError. */
export function parseOptions(argv) {
  let values
  try {
    ;({ values } = parseArgs({ args: argv, options: SPEC, strict: true, allowPositionals: false }))
  } catch (error) {
    throw new UsageError(error.message)
  }
  return {
    help: values.help,
    scenarios: scenarioList(values.scenario),
    duration: integer('duration', values.duration, 1, 600),
    warmup: integer('warmup', values.warmup, 0, 60),
    connections: integer('connections', values.connections, 1, 10_000),
    repeat: integer('repeat', values.repeat, 1, 50),
    loadgen: oneOf('loadgen', values.loadgen, ['autocannon', 'wrk']),
    upstream: oneOf('upstream', values.upstream, ['auto', 'node', 'nginx']),
    maxLoadgenCpu: integer('max-loadgen-cpu', values['max-loadgen-cpu'], 1, 100),
    proxyCpu: integer('proxy-cpu', values['proxy-cpu'], 0, 1023),
    loadgenCpu: integer('loadgen-cpu', values['loadgen-cpu'], 0, 1023),
    out: values.out,
    keep: values.keep,
  }
}
