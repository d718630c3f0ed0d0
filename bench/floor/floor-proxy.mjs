#!/usr/bin/env node
/**
 * @module The floor: the least a Node.js reverse proxy on node:http + undici can do per request, to
 * measure what Latch's own code costs and how far above fastify-reply-from this stack can go at all.
 *
 * NOT a proxy to use: round robin only, no routing, no health, no limits, no X-Forwarded-*, no error
 * pages, no retries, no logging. Hop-by-hop headers are dropped (as any proxy must), everything else
 * is passed through as raw arrays with undici's native dispatch API — the same calls Latch makes.
 *
 * `--forwarding-headers` adds what Latch adds by default (X-Request-ID, X-Forwarded-For/-Proto/-Host/
 * -Port, Via upstream; X-Request-ID on the response), to separate their cost from the rest of Latch's.
 *
 * Usage (the peer harness's candidate template):
 *   node bench/floor/floor-proxy.mjs --listen 127.0.0.1:{port} --upstream {upstreams} [--forwarding-headers]
 */
import { createServer } from 'node:http'
import { Pool } from 'undici'

const args = process.argv.slice(2)
const option = (name) => {
  const index = args.indexOf(name)
  if (index === -1 || index + 1 >= args.length) throw new Error(`missing ${name}`)
  return args[index + 1]
}
const [host, port] = option('--listen').split(/:(?=\d+$)/)
const pools = option('--upstream').split(',').map((origin) => new Pool(origin, { pipelining: 1, keepAliveTimeout: 60_000 }))
const forwardingHeaders = args.includes('--forwarding-headers')
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])
let next = 0
let requestIds = 0

class Exchange {
  constructor(req, res, requestId) {
    this.req = req
    this.res = res
    this.requestId = requestId
  }
  onConnect() {}
  onHeaders(status, raw, _resume, statusText) {
    const headers = []
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toString('latin1')
      if (!HOP.has(name.toLowerCase())) headers.push(name, raw[i + 1].toString('latin1'))
    }
    if (this.requestId !== undefined) headers.push('x-request-id', this.requestId)
    this.res.writeHead(status, statusText || undefined, headers)
    return true
  }
  onData(chunk) {
    return this.res.write(chunk)
  }
  onComplete() {
    this.res.end()
  }
  onError() {
    if (this.res.headersSent) this.res.destroy()
    else this.res.writeHead(502).end()
  }
}

const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
  const raw = req.rawHeaders
  const headers = []
  for (let i = 0; i < raw.length; i += 2) if (!HOP.has(raw[i].toLowerCase())) headers.push(raw[i], raw[i + 1])
  let requestId
  if (forwardingHeaders) {
    requestId = `0123456789abcdef-${++requestIds}`
    const socket = req.socket
    headers.push('x-request-id', requestId, 'x-forwarded-for', socket.remoteAddress, 'x-forwarded-proto', 'http', 'x-forwarded-host', req.headers.host, 'x-forwarded-port', String(socket.localPort), 'via', '1.1 floor')
  }
  const pool = pools[next]
  next = (next + 1) % pools.length
  const bodiless = req.method === 'GET' || req.method === 'HEAD'
  pool.dispatch({ path: req.url, method: req.method, headers, body: bodiless ? null : req }, new Exchange(req, res, requestId))
})
server.listen(Number(port), host, () => console.log(`floor proxy on ${host}:${port}`))
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0))
