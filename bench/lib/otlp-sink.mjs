/**
 * @module An OTLP/HTTP traces sink for scenarios with `otlpSink: true`: a node:http server on a free
 * loopback port, pinned with the load side, that answers every export 200 and counts the spans in it
 * (by `"spanId"` keys, without parsing). It writes the running total to its log file once a second and
 * at exit, so the scenario can check that spans were exported. Stopped by PID like everything else.
 */
import { readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { spawnTracked } from './processes.mjs'
import { freePort } from './upstreams.mjs'

const SINK_SCRIPT = `
const { createServer } = require('node:http')
let spans = 0
let written = -1
const report = () => { if (spans !== written) { written = spans; process.stdout.write('spans ' + spans + '\\n') } }
createServer((req, res) => {
  let body = ''
  req.setEncoding('latin1')
  req.on('data', (chunk) => { body += chunk })
  req.on('end', () => {
    spans += body.split('"spanId"').length - 1
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
}).listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('listening\\n'))
setInterval(report, 1000)
process.on('SIGTERM', () => { report(); process.exit(0) })
process.stdin.on('close', () => process.exit(0))
process.stdin.resume()
`

/** Starts the sink; resolves `{ record, url, spans() }` once it listens. */
export async function startOtlpSink({ cpu, logFile }) {
  const port = await freePort()
  const record = spawnTracked('otlp sink (node:http)', process.execPath, ['-e', SINK_SCRIPT, String(port)], { cpu, logFile, stdin: 'pipe' })
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
