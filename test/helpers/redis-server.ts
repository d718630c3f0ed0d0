/**
 * @module Starts real `redis-server` processes (and Sentinels) on free loopback ports for tests.
 *
 * Never the system Redis on 6379: each server gets a port found by binding port 0, no persistence,
 * and a temp directory. Only the PIDs started here are ever signalled; every one is killed when the
 * test process exits, even if a test forgot to.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const started = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/** A free loopback TCP port (bound once to port 0, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** One redis-server (or Sentinel) process this test started. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly pid: number | undefined
  /** SIGKILL, like a crash; resolves once it exited. */
  kill(): Promise<void>
  /** SIGSTOP: the process keeps its connections but answers nothing. */
  pause(): void
  /** SIGCONT after pause(). */
  resume(): void
  /** Starts the same server again on the same port (after kill), empty. */
  restart(): Promise<void>
  /** Sends one command (inline protocol) and returns the raw reply. */
  command(...args: string[]): Promise<string>
}

export interface RedisServerOptions {
  /** requirepass */
  readonly password?: string
  /** Extra redis.conf lines, e.g. `replicaof 127.0.0.1 6380`. */
  readonly conf?: readonly string[]
  /** Start as a Sentinel. */
  readonly sentinel?: boolean
  readonly port?: number
}

/** Starts a redis-server and waits until it answers PING. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const port = options.port ?? (await freePort())
  const dir = mkdtempSync(join(tmpdir(), 'latch-redis-'))
  const conf = join(dir, options.sentinel === true ? 'sentinel.conf' : 'redis.conf')
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    'protected-mode no',
    ...(options.sentinel === true ? [] : ['save ""', 'appendonly no']),
    ...(options.password === undefined ? [] : [`requirepass ${options.password}`]),
    ...(options.conf ?? []),
  ]
  writeFileSync(conf, `${lines.join('\n')}\n`)
  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', [conf, ...(options.sentinel === true ? ['--sentinel'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] })
    started.add(child)
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)))
    child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)))
    const deadline = Date.now() + 10_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server on ${port} exited with ${child.exitCode}: ${output}`)
      const reply = await rawCommand(port, ['PING']).catch(() => '')
      if (reply.startsWith('+PONG') || reply.startsWith('-NOAUTH')) return
      if (Date.now() > deadline) throw new Error(`redis-server on ${port} did not answer within 10 s: ${output}`)
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
  }
  await launch()
  const auth = options.password === undefined ? [] : [['AUTH', options.password]]
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid
    },
    async kill() {
      const current = child
      if (current === undefined || current.exitCode !== null || current.signalCode !== null) return
      const exited = new Promise((resolve) => current.once('exit', resolve))
      current.kill('SIGCONT')
      current.kill('SIGKILL')
      await exited
    },
    pause() {
      child?.kill('SIGSTOP')
    },
    resume() {
      child?.kill('SIGCONT')
    },
    restart: launch,
    command: (...args) => rawCommand(port, args, auth),
  }
}

/** A Redis Cluster of `masters` nodes (no replicas), slots spread by `redis-cli --cluster create`. */
export async function startRedisCluster(masters = 3): Promise<RedisServer[]> {
  const nodes = await Promise.all(Array.from({ length: masters }, () => startRedis({ conf: ['cluster-enabled yes', 'cluster-config-file nodes.conf', 'cluster-node-timeout 2000'] })))
  const created = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-yes'], { encoding: 'utf8', timeout: 20_000 })
  if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`)
  const deadline = Date.now() + 15_000
  for (;;) {
    const states = await Promise.all(nodes.map((node) => node.command('CLUSTER', 'INFO')))
    if (states.every((state) => state.includes('cluster_state:ok'))) return nodes
    if (Date.now() > deadline) throw new Error(`the cluster did not become ok: ${states.join(' | ')}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Stops every server started by startRedis (afterAll). */
export async function stopAllRedis(): Promise<void> {
  await Promise.all(
    [...started].map((child) => {
      started.delete(child)
      if (child.exitCode !== null || child.signalCode !== null) return undefined
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      return exited
    }),
  )
}

/** Sends commands (RESP arrays) and returns everything the server answered within a moment. */
function rawCommand(port: number, args: readonly string[], before: readonly (readonly string[])[] = []): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    const expected = before.length + 1
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no reply from redis on ${port}`))
    }, 2000)
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString()
      if (countReplies(reply) >= expected) {
        clearTimeout(timer)
        socket.end()
        resolve(reply.split('\r\n').slice(lineOfReply(reply, before.length)).join('\r\n'))
      }
    })
    socket.write([...before, args].map(encode).join(''))
  })
}

function encode(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`
}

/** Counts complete top-level replies in `text` (enough of RESP2 for tests). */
function countReplies(text: string): number {
  let count = 0
  let at = 0
  while (at < text.length) {
    const end = skip(text, at)
    if (end === -1) break
    count++
    at = end
  }
  return count
}

/** Index of the line where reply number `n` starts. */
function lineOfReply(text: string, n: number): number {
  let at = 0
  for (let i = 0; i < n; i++) at = skip(text, at)
  return text.slice(0, at).split('\r\n').length - 1
}

/** The offset after one complete reply starting at `at`, or -1. */
function skip(text: string, at: number): number {
  const lineEnd = text.indexOf('\r\n', at)
  if (lineEnd === -1) return -1
  const type = text[at]
  const header = text.slice(at + 1, lineEnd)
  if (type === '+' || type === '-' || type === ':') return lineEnd + 2
  if (type === '$') {
    const length = Number(header)
    if (length < 0) return lineEnd + 2
    const end = lineEnd + 2 + length + 2
    return end <= text.length ? end : -1
  }
  if (type === '*') {
    let next = lineEnd + 2
    for (let i = 0; i < Number(header); i++) {
      next = skip(text, next)
      if (next === -1) return -1
    }
    return next
  }
  return -1
}
