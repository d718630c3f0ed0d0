/**
 * @module Runs autocannon in its own (pinned) process: `node autocannon-worker.mjs '<json spec>'`.
 *
 * Spec: `{ url, connections, duration, timeoutS, shape }`. Prints `{"event":"start"}` when the load starts and
 * `{"event":"done","result":{...}}` at the end, one JSON line each. Exits when its stdin closes (the benchmark
 * died) so it can never run on alone.
 */
import autocannon from 'autocannon'
import { installPreamble } from './preambles.mjs'
import { SHAPES } from './request-shapes.mjs'

const spec = JSON.parse(process.argv[2])
if (spec.preamble !== undefined) installPreamble(spec.preamble)
const shaping = SHAPES[spec.shape].autocannon(spec)

const instance = autocannon({
  url: spec.url,
  connections: spec.connections,
  duration: spec.duration,
  timeout: spec.timeoutS,
  ...(shaping.setupClient === undefined ? {} : { setupClient: shaping.setupClient }),
  ...(shaping.requests === undefined ? {} : { requests: shaping.requests }),
})

instance.on('start', () => process.stdout.write('{"event":"start"}\n'))
instance.on('done', (result) => {
  const out = {
    requests: result.requests.total,
    durationS: result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([code, { count }]) => [code, Number(count)])),
    shapeStats: shaping.stats(),
  }
  process.stdout.write(`${JSON.stringify({ event: 'done', result: out })}\n`, () => process.exit(0))
})
instance.on('error', (error) => {
  process.stderr.write(`autocannon: ${error.message}\n`)
  process.exit(1)
})

process.stdin.resume()
process.stdin.on('close', () => {
  instance.stop()
  process.exit(1)
})
