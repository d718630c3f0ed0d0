#!/usr/bin/env node
// Which HTTP/2 client should Latch use towards h2/h2c upstreams? undici's (Pool with allowH2/useH2c)
// or Node's node:http2? Both drive the same h2c server (grpc-shaped-server.mjs, in a child process so the
// client side alone is measured in this one) with gRPC-shaped calls: POST, small body, response body and
// trailers. Per round and per client: calls/s at a fixed concurrency, client CPU µs per call, how many
// TCP connections the server saw, and whether every call got its trailers. Rounds alternate the order.
// Usage: node bench/h2/client-choice.mjs [--rounds 3] [--duration 4] [--concurrency 64]   (≤ 60 s in all)
import { fork } from 'node:child_process'
import http2 from 'node:http2'
import { parseArgs } from 'node:util'
import { Pool } from 'undici'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, duration: { type: 'string', default: '4' }, concurrency: { type: 'string', default: '64' } } })

{
  const rounds = Number(values.rounds)
  const durationMs = Number(values.duration) * 1000
  const concurrency = Number(values.concurrency)
  if (rounds * 2 * durationMs > 56_000) throw new Error('rounds × 2 × duration must stay under 56 s')
  const child = fork(new URL('./grpc-shaped-server.mjs', import.meta.url).pathname)
  const port = await new Promise((resolve) => child.once('message', (m) => resolve(m.port)))
  const origin = `http://127.0.0.1:${port}`
  const body = Buffer.alloc(32, 2)
  const headers = { 'content-type': 'application/grpc', te: 'trailers' }
  const connectionsSeen = () => new Promise((resolve) => { child.once('message', (m) => resolve(m.connections)); child.send('connections') })

  const clients = {
    // undici: Pool with HTTP/2 (prior knowledge on cleartext); connections as Latch's default maxRequestsPerEndpoint.
    undici: () => {
      const pool = new Pool(origin, { allowH2: true, connect: { useH2c: true }, connections: 128 })
      return {
        call: () => new Promise((resolve, reject) => {
          let trailers = false
          pool.dispatch({ path: '/bench.Echo/Unary', method: 'POST', headers, body }, {
            onConnect() {}, onHeaders() { return true }, onData() { return true },
            onComplete(t) { trailers = t !== null && Object.keys(t).length > 0 && (Array.isArray(t) ? t.map(String).includes('grpc-status') : 'grpc-status' in t); resolve(trailers) },
            onError: reject,
          })
        }),
        close: () => pool.close(),
      }
    },
    // node:http2: one session, every call a stream on it.
    'node:http2': () => {
      const session = http2.connect(origin)
      session.on('error', () => {})
      return {
        call: () => new Promise((resolve, reject) => {
          const stream = session.request({ ':method': 'POST', ':path': '/bench.Echo/Unary', ...headers })
          let trailers = false
          stream.on('response', () => {})
          stream.on('trailers', (t) => (trailers = 'grpc-status' in t))
          stream.on('data', () => {})
          stream.on('close', () => resolve(trailers))
          stream.on('error', reject)
          stream.end(body)
        }),
        close: () => new Promise((resolve) => session.close(resolve)),
      }
    },
  }

  async function run(name) {
    const client = clients[name]()
    await connectionsSeen()
    for (let i = 0; i < 200; i++) await client.call() // warm-up
    let done = 0
    let missing = 0
    const cpu0 = process.cpuUsage()
    const start = performance.now()
    const deadline = start + durationMs
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        if (!(await client.call())) missing++
        done++
      }
    }))
    const elapsed = performance.now() - start
    const cpu = process.cpuUsage(cpu0)
    const connections = await connectionsSeen()
    await client.close()
    return { name, callsPerSecond: Math.round(done / (elapsed / 1000)), cpuMicrosPerCall: Math.round((cpu.user + cpu.system) / done), connectionsOpened: connections, callsWithoutTrailers: missing }
  }

  const results = []
  for (let round = 1; round <= rounds; round++) {
    const order = round % 2 === 1 ? ['undici', 'node:http2'] : ['node:http2', 'undici']
    for (const name of order) {
      const r = await run(name)
      results.push({ round, ...r })
      console.log(JSON.stringify({ round, ...r }))
    }
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const ratios = []
  for (let round = 1; round <= rounds; round++) {
    const u = results.find((r) => r.round === round && r.name === 'undici')
    const n = results.find((r) => r.round === round && r.name === 'node:http2')
    ratios.push(n.callsPerSecond / u.callsPerSecond)
  }
  console.log(`median node:http2 ÷ undici calls/s: ${median(ratios).toFixed(2)} (per round: ${ratios.map((r) => r.toFixed(2)).join(', ')})`)
  child.kill()
}
