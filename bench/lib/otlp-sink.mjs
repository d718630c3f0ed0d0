/**
 * @module The OTLP/HTTP traces sink of scenarios with `otlpSink: true` (otlp-sink-server.mjs) on a free
 * loopback port, pinned with the load side; its log file holds the running span count, so the scenario
 * can check that spans were exported. Stopped by PID like everything else.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { spawnTracked } from './processes.mjs'
import { freePort } from './upstreams.mjs'

const SINK_SERVER = join(import.meta.dirname, 'otlp-sink-server.mjs')

/** Starts the sink; resolves `{ record, url, spans() }` once it listens. */
export async function startOtlpSink({ cpu, logFile }) {
  const port = await freePort()
  const record = spawnTracked('otlp sink (node:http)', process.execPath, [SINK_SERVER, String(port)], { cpu, logFile, stdin: 'pipe' })
  const deadline = Date.now() + 10_000
  while (!readLog(logFile).includes('listening')) {
    if (record.exit !== undefined || Date.now() > deadline) throw new Error(`the OTLP sink on ${port} did not start (see ${logFile})`)
    await sleep(30)
  }
  return { record, url: `http://127.0.0.1:${port}/v1/traces`, spans: () => lastCount(logFile) }
}

function readLog(file) {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

/** The last running total the sink wrote. */
function lastCount(file) {
  const counts = [...readLog(file).matchAll(/^spans (\d+)$/gm)]
  return counts.length === 0 ? 0 : Number(counts.at(-1)[1])
}
