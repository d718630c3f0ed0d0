/**
 * @module The benchmark's upstream process: N node:http servers on ephemeral loopback ports, 100-byte body.
 *
 * Usage: `node upstream-server.mjs COUNT MAX_SECONDS`. Prints `{"ports":[...]}` on one line once all listen.
 * Each answers every request with 200, a 100-byte body, `x-upstream: u<i>`, and echoes the request header
 * `x-client` (for later stickiness scenarios). It exits when its stdin closes (the benchmark died) or after
 * MAX_SECONDS, so it can never outlive the run by much.
 */
import { createServer } from 'node:http'
import { upstreamBody } from './upstream-body.mjs'

const count = Number(process.argv[2] ?? 3)
const maxSeconds = Number(process.argv[3] ?? 600)

function startServer(id) {
  const body = upstreamBody(id)
  const server = createServer((req, res) => {
    const headers = { 'content-type': 'text/plain', 'content-length': body.length, 'x-upstream': id }
    const client = req.headers['x-client']
    if (client !== undefined) headers['x-client'] = client
    // Drain any request body so keep-alive stays usable.
    req.resume()
    res.writeHead(200, headers)
    res.end(body)
  })
  // Longer than any run: the load generator's connections must never be closed for idleness mid-run.
  server.keepAliveTimeout = 120_000
  server.headersTimeout = 125_000
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', 4096, () => resolve(server.address().port))
  })
}

const ports = await Promise.all(Array.from({ length: count }, (_, i) => startServer(`u${i + 1}`)))
process.stdout.write(`${JSON.stringify({ ports })}\n`)
process.stdin.resume()
process.stdin.on('close', () => process.exit(0))
setTimeout(() => process.exit(0), maxSeconds * 1000).unref()
