import { spawn, type ChildProcess } from 'node:child_process'
import { createServer, connect, type AddressInfo, type Server } from 'node:net'
import { resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { waitFor } from '../helpers/wait.js'

const DEMO = resolve(import.meta.dirname, '../../dist/demo/run-demo.js')

interface RunningDemo {
  readonly child: ChildProcess
  readonly output: () => string
  readonly proxyUrl: string
  readonly adminUrl: string
  readonly backends: ReadonlyMap<string, string>
  readonly exited: Promise<number | null>
}

const started: RunningDemo[] = []

/** Runs the demo as `npm run demo` does (after the build) and waits for its banner. */
async function startDemo(env: NodeJS.ProcessEnv): Promise<RunningDemo> {
  const child = spawn(process.execPath, [DEMO], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)))
  const proxyLine = await waitFor(() => /Latch: +(http:\/\/localhost:\d+)/.exec(output) ?? (child.exitCode !== null ? ['', ''] : null), 15_000, 20, 'the demo banner')
  expect(proxyLine[1], output).not.toBe('')
  const backends = new Map([...output.matchAll(/backend (demo-\d): +(http:\/\/127\.0\.0\.1:\d+)/g)].map((match) => [match[1] as string, match[2] as string]))
  // Requests go to 127.0.0.1 (what the demo binds), whatever "localhost" resolves to on this machine.
  const adminUrl = /admin API: +(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? ''
  const demo = { child, output: () => output, proxyUrl: (proxyLine[1] as string).replace('localhost', '127.0.0.1'), adminUrl, backends, exited }
  started.push(demo)
  return demo
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; backend: string; body: string }> {
  const response = await request(url, { headers })
  const body = await response.body.text()
  return { status: response.statusCode, backend: String(response.headers['x-backend']), body }
}

function refusesConnections(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url)
  return new Promise((resolveRefused) => {
    const socket = connect(Number(port), hostname)
    socket.on('connect', () => {
      socket.destroy()
      resolveRefused(false)
    })
    socket.on('error', (error: NodeJS.ErrnoException) => resolveRefused(error.code === 'ECONNREFUSED'))
  })
}

afterEach(async () => {
  for (const demo of started.splice(0)) {
    if (demo.child.exitCode === null) demo.child.kill('SIGKILL')
    await demo.exited
  }
})

describe('npm run demo', () => {
  it('answers from three different backends through the proxy, and Ctrl-C stops everything', async () => {
    const demo = await startDemo({ LATCH_DEMO_PORT: '0', LATCH_DEMO_ADMIN_PORT: '0', DEMO_BACKEND_PORTS: '0' })
    expect([...demo.backends.keys()]).toEqual(['demo-1', 'demo-2', 'demo-3'])
    const answers = []
    for (let i = 0; i < 6; i++) answers.push(await get(`${demo.proxyUrl}/`))
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 200])
    expect(new Set(answers.map((answer) => answer.backend))).toEqual(new Set(['demo-1', 'demo-2', 'demo-3']))
    for (const answer of answers) expect(JSON.parse(answer.body)).toMatchObject({ backend: answer.backend, path: '/', via: '1.1 latch' })

    const pinned = await Promise.all([1, 2, 3].map((n) => get(`${demo.proxyUrl}/first/${n}`)))
    expect(pinned.map((answer) => answer.backend)).toEqual(['demo-1', 'demo-1', 'demo-1'])
    const sticky = await request(`${demo.proxyUrl}/sticky/`)
    await sticky.body.dump()
    expect(sticky.headers['x-latch-affinity']).toBe('new')
    const cookie = String(sticky.headers['set-cookie']).split(';')[0] as string
    const stuck = []
    for (let i = 0; i < 4; i++) stuck.push(await get(`${demo.proxyUrl}/sticky/${i}`, { cookie }))
    expect(stuck.map((answer) => answer.backend)).toEqual(Array(4).fill(sticky.headers['x-backend']))

    const html = await get(`${demo.proxyUrl}/`, { accept: 'text/html' })
    expect(html.body).toMatch(/<h1>Served by demo-\d<\/h1>/)
    await waitFor(() => demo.output().includes('"pool":"first"'), 5000, 20, 'access log lines on stdout')
    const pools = JSON.parse((await get(`${demo.adminUrl}/pools`)).body) as { pools: { name: string }[] }
    expect(pools.pools.map((pool) => pool.name)).toEqual(['demo', 'first', 'sticky'])

    demo.child.kill('SIGINT')
    expect(await demo.exited).toBe(0)
    for (const url of [demo.proxyUrl, demo.adminUrl, ...demo.backends.values()]) expect(await refusesConnections(url)).toBe(true)
  })

  it('prints a ready-to-paste curl line for the proxy address it really got', async () => {
    const demo = await startDemo({ LATCH_DEMO_PORT: '0', LATCH_DEMO_ADMIN_PORT: '0', DEMO_BACKEND_PORTS: '0' })
    const port = new URL(demo.proxyUrl).port
    expect(demo.output()).toContain(`curl -s -i http://localhost:${port}/ | grep -i x-backend`)
  })

  it('falls back to free ports when the ports it asks for are busy', async () => {
    const busy: Server = createServer()
    await new Promise<void>((resolveListen) => busy.listen(0, '127.0.0.1', resolveListen))
    const busyPort = (busy.address() as AddressInfo).port
    try {
      const demo = await startDemo({ LATCH_DEMO_PORT: String(busyPort), LATCH_DEMO_ADMIN_PORT: String(busyPort), DEMO_BACKEND_PORTS: `${busyPort},0,0` })
      expect(demo.output().match(new RegExp(`port ${busyPort} is busy`, 'g'))).toHaveLength(3)
      expect(new URL(demo.proxyUrl).port).not.toBe(String(busyPort))
      expect(new URL(demo.adminUrl).port).not.toBe(String(busyPort))
      expect((await get(`${demo.adminUrl}/healthz`)).status).toBe(200)
      expect(new URL(demo.backends.get('demo-1') as string).port).not.toBe(String(busyPort))
      expect((await get(`${demo.proxyUrl}/first/`)).backend).toBe('demo-1')
    } finally {
      await new Promise((resolveClose) => busy.close(resolveClose))
    }
  })

  it('refuses a malformed DEMO_BACKEND_PORTS with exit code 2 and says what is expected', async () => {
    const child = spawn(process.execPath, [DEMO], { env: { ...process.env, DEMO_BACKEND_PORTS: '3001,3002' }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit))
    expect(code).toBe(2)
    expect(stderr).toContain('expected one port for all three backends or three comma-separated ports')
  })
})
