import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { parse } from 'yaml'
import { startSessionApp, type SessionApp, type Visit } from '../../src/demo/session-app.js'
import { readCompose, ROOT, serviceEnv } from '../helpers/docker-compose.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startRedis, stopAllRedis } from '../helpers/redis-server.js'
import { waitFor } from '../helpers/wait.js'

// What the docker compose walkthrough (docs/guides/docker-compose.md) does, without Docker (this machine has none): the
// compose services' own commands, environment and Latch config, on loopback ports.

const { services } = readCompose()
const cleanups: (() => Promise<unknown>)[] = []

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

interface Child {
  readonly child: ChildProcess
  readonly output: () => string
  readonly exited: Promise<number | null>
}

function run(command: readonly string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(command[0] as string, command.slice(1), { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)))
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL')
    await exited
  })
  return { child, output: () => output, exited }
}

/** A compose `CMD` array run from the repository root, which stands for the image's /app. */
function composeCommand(command: readonly string[]): string[] {
  return command.map((part) => (part === 'node' ? process.execPath : part))
}

/** A client with a cookie jar, like `curl -c jar -b jar`. */
class Client {
  readonly #jar = new Map<string, string>()

  cookie(name: string): string | undefined {
    return this.#jar.get(name)
  }

  async get(url: string): Promise<{ visit: Visit; affinity: string }> {
    const cookie = [...this.#jar].map(([name, value]) => `${name}=${value}`).join('; ')
    const response = await request(url, { headers: { accept: 'application/json', ...(cookie === '' ? {} : { cookie }) } })
    expect(response.statusCode).toBe(200)
    const setCookie = response.headers['set-cookie']
    for (const line of Array.isArray(setCookie) ? setCookie : setCookie === undefined ? [] : [setCookie]) {
      const [pair] = line.split(';') as [string]
      const at = pair.indexOf('=')
      this.#jar.set(pair.slice(0, at), pair.slice(at + 1))
    }
    return { visit: JSON.parse(await response.body.text()) as Visit, affinity: String(response.headers['x-latch-affinity']) }
  }
}

/** The compose Latch config with loopback addresses and the given backends instead of compose service names. */
function composeLatchConfig(backends: ReadonlyMap<string, SessionApp>): Record<string, unknown> {
  const volume = services['latch-1']?.volumes?.[0] as string
  const config = parse(readFileSync(resolve(ROOT, volume.split(':')[0] as string), 'utf8')) as Record<string, unknown> & { pools: { endpoints: string[] }[] }
  config.listen = '127.0.0.1:0'
  config.admin = { listen: '127.0.0.1:0' }
  // `store` stays as in the compose file: REDIS_URL points it at a real redis-server on loopback.
  for (const pool of config.pools) {
    pool.endpoints = pool.endpoints.map((url) => {
      const backend = backends.get(new URL(url).hostname)
      if (backend === undefined) throw new Error(`no backend for ${url}`)
      return backend.url
    })
  }
  return config
}

describe('docker compose walkthrough (without Docker)', () => {
  it('a backend service\'s command and environment run the session app, and its health check passes until it stops', async () => {
    const backend = services['backend-2']!
    const app = run(composeCommand(backend.command ?? []), { ...serviceEnv(backend), SESSION_APP_HOST: '127.0.0.1', SESSION_APP_PORT: '0' })
    const url = (await waitFor(() => /listening on (http:\/\/\S+)/.exec(app.output()), 10_000, 20, 'the session app'))[1] as string
    expect(app.output()).toMatch(/^session-app backend-2 listening on/)
    expect((await (await request(url)).body.text())).toMatch(/^backend-2 {2}session=\S+ {2}visits=1/)
    // The compose healthcheck, with its URL moved to the port the app really got.
    const healthUrl = (serviceEnv(backend).LATCH_HEALTHCHECK_URL as string).replace(/:\d+\//, `:${new URL(url).port}/`)
    const probe = (): Promise<number | null> => run(composeCommand(backend.healthcheck?.test.slice(1) ?? []), { LATCH_HEALTHCHECK_URL: healthUrl }).exited
    expect(await probe()).toBe(0)
    app.child.kill('SIGTERM')
    expect(await app.exited).toBe(0)
    expect(await probe()).toBe(1)
  })

  it('a session keeps its backend across both replicas, while a replica stops, and moves once when its backend stops', async () => {
    const backends = new Map<string, SessionApp>()
    for (const name of ['backend-1', 'backend-2', 'backend-3']) {
      const app = await startSessionApp({ name })
      backends.set(name, app)
      cleanups.push(() => app.close())
    }
    const config = composeLatchConfig(backends)
    // The compose `redis` service: a real redis-server on a free loopback port.
    const redis = await startRedis()
    cleanups.push(() => stopAllRedis())
    const envOf = (name: string): NodeJS.ProcessEnv => ({ ...serviceEnv(services[name]!), REDIS_URL: redis.url })
    const latches: LatchProcess[] = []
    for (const name of ['latch-1', 'latch-2']) {
      const latch = await startLatch({ config, env: envOf(name), args: ['--access-log', 'off'] })
      latches.push(latch)
      cleanups.push(() => latch.stop('SIGKILL'))
    }
    const [one, two] = latches as [LatchProcess, LatchProcess]
    const client = new Client()

    // curl -c jar -b jar localhost:8081/, then alternately :8082 and :8081
    const first = await client.get(`${one.url}/`)
    expect(first).toMatchObject({ affinity: 'new', visit: { visits: 1, newSession: true } })
    const bound = first.visit.backend
    const alternating = []
    for (const latch of [two, one, two, one]) alternating.push(await client.get(`${latch.url}/`))
    expect(alternating.map((answer) => [answer.visit.backend, answer.visit.visits, answer.affinity])).toEqual([2, 3, 4, 5].map((visits) => [bound, visits, 'hit']))

    // docker compose stop latch-1: it drains and exits 0; latch-2 keeps the session where it was.
    expect(await one.stop('SIGTERM')).toBe(0)
    const afterReplica = [await client.get(`${two.url}/`), await client.get(`${two.url}/`)]
    expect(afterReplica.map((answer) => [answer.visit.backend, answer.visit.visits])).toEqual([[bound, 6], [bound, 7]])

    // docker compose stop <the session's backend>: the session moves once, to a backend that starts it over.
    const cookieBefore = client.cookie('latch')
    await backends.get(bound)?.close()
    const moved = await client.get(`${two.url}/`)
    expect(moved.visit.backend).not.toBe(bound)
    expect(moved).toMatchObject({ affinity: 'rebound', visit: { visits: 1, newSession: true } })
    // The rebound answer re-issues the signed cookie for the new backend, so every replica agrees.
    expect(client.cookie('latch')).not.toBe(cookieBefore)
    const settled = [await client.get(`${two.url}/`), await client.get(`${two.url}/`)]
    expect(settled.map((answer) => [answer.visit.backend, answer.visit.visits, answer.affinity])).toEqual([[moved.visit.backend, 2, 'hit'], [moved.visit.backend, 3, 'hit']])

    // docker compose start latch-1: a fresh replica; the signed cookie alone keeps the session.
    const restarted = await startLatch({ config, env: envOf('latch-1'), args: ['--access-log', 'off'] })
    cleanups.push(() => restarted.stop('SIGKILL'))
    const again = await client.get(`${restarted.url}/`)
    expect([again.visit.backend, again.visit.visits, again.affinity]).toEqual([moved.visit.backend, 4, 'hit'])
    // The replicas used Redis: connected, and the session is counted there (cluster-wide counts).
    // (sessionSecrets is configured, so Latch serves without waiting for Redis: its log may come later.)
    await waitFor(() => restarted.logs.some((line) => line.msg === 'redis store connected'), 5000, 20, 'the replica to connect to Redis')
    await waitFor(async () => (await redis.command('EXISTS', 'latch:e:{app:cookie}')) === ':1\r\n', 2000, 20, 'the live session in Redis')
  })
})
