/**
 * @module Starts Latch through its real CLI (dist/cli/main.js) as a pinned child process and waits until it serves.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnTracked } from './processes.mjs'
import { waitForHttp200, waitForLogValue } from './probe.mjs'

/** The built CLI; `npm run bench` builds it first. */
export const CLI = new URL('../../dist/cli/main.js', import.meta.url).pathname
const START_MS = 20_000

/** Fails early with a useful message when dist/ is missing. */
export function assertBuilt() {
  if (!existsSync(CLI)) throw new Error('dist/cli/main.js not found — run "npm run build" first (npm run bench does)')
}

/** The CLI arguments for one scenario run (a config scenario gets its file written into `dir`). */
export function latchArgs(scenario, ctx, dir, label) {
  const spec = scenario.latch(ctx)
  if (spec.config !== undefined) {
    const file = join(dir, `${label}.config.json`)
    writeFileSync(file, JSON.stringify(spec.config, null, 2))
    return ['--config', file, '--log-level', 'info']
  }
  return ['--listen', '127.0.0.1:0', '--log-level', 'info', ...spec.args]
}

/**
 * Starts `node dist/cli/main.js ARGS` (pinned to `cpu` when given); resolves `{ record, url }` once its
 * "latch is serving" log line names the bound address and `GET /` (or `ready.path` with `ready.headers`,
 * for scenarios that do not route `/`) answers 200.
 */
export async function startLatch(args, { cpu, dir, label, preamble, ready }) {
  const record = spawnTracked(`latch (${label})`, process.execPath, [CLI, ...args], { cpu, logFile: join(dir, `${label}.log`) })
  const address = await waitForLogValue(record, (line) => (line.msg === 'latch is serving' ? line.listen?.[0] : undefined), START_MS)
  const url = `http://${address}/`
  await waitForHttp200(ready === undefined ? url : new URL(ready.path, url).href, record, START_MS, preamble, ready?.headers)
  return { record, url }
}
