/**
 * @module An OTLP/HTTP traces sink: `node otlp-sink-server.mjs PORT [MAX_SECONDS]` listens on 127.0.0.1:PORT,
 * answers every export 200 `{}` and counts the spans in it (by `"spanId"` keys, without parsing). It prints
 * `listening` once it listens and the running total (`spans N`) once a second when it changed and at exit.
 * It exits when its stdin closes (the benchmark died), on SIGTERM, or after MAX_SECONDS (default 600).
 */
import { createServer } from 'node:http'

const port = Number(process.argv[2])
const maxSeconds = Number(process.argv[3] ?? 600)
let spans = 0
let written = -1

function report() {
  if (spans === written) return
  written = spans
  process.stdout.write(`spans ${spans}\n`)
}

createServer((req, res) => {
  let body = ''
  req.setEncoding('latin1')
  req.on('data', (chunk) => {
    body += chunk
  })
  req.on('end', () => {
    spans += body.split('"spanId"').length - 1
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  })
}).listen(port, '127.0.0.1', () => process.stdout.write('listening\n'))

setInterval(report, 1000).unref()
const stop = () => {
  report()
  process.exit(0)
}
process.on('SIGTERM', stop)
process.stdin.on('close', stop)
process.stdin.resume()
setTimeout(stop, maxSeconds * 1000).unref()
