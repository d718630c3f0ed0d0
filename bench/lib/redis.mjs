/**
 * @module A fresh redis-server per scenario run that needs one (`redis: true`), pinned with the upstreams and
 * the load generator, on a free loopback port, without persistence. Stopped by PID like everything else.
 */
import { createConnection } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { spawnTracked } from './processes.mjs'
import { freePort, hasCommand } from './upstreams.mjs'

/** Starts redis-server; resolves `{ record, url }` once it answers PING. */
export async function startRedisServer({ cpu, logFile }) {
  if (!hasCommand('redis-server')) throw new Error('redis-server is not on PATH (README Quick start: apt-get install redis-server, or brew install redis)')
  const port = await freePort()
  const record = spawnTracked('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { cpu, logFile })
  const deadline = Date.now() + 10_000
  while (!(await pong(port))) {
    if (record.exit !== undefined || Date.now() > deadline) throw new Error(`redis-server on ${port} did not start (see ${logFile})`)
    await sleep(30)
  }
  return { record, url: `redis://127.0.0.1:${port}` }
}

function pong(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.setTimeout(500, () => socket.destroy())
    socket.on('error', () => resolve(false))
    socket.on('close', () => resolve(false))
    socket.on('data', (chunk) => {
      resolve(chunk.toString().startsWith('+PONG'))
      socket.end()
    })
    socket.write('PING\r\n')
  })
}
