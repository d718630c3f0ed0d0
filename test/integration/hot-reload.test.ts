import { rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import { WebSocket, WebSocketServer } from 'ws'
import { stringify } from 'yaml'
import { adminCall } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess, type LogLine } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const SECRET = 'reload-test-secret-0123456789abcdef'
const SESSIONS = 1000

/** A WebSocket echo server (the tunnel that must survive reloads). */
async function startEchoServer(): Promise<{ server: Server; url: string }> {
  const server = createServer()
  const wss = new WebSocketServer({ server })
  wss.on('connection', (socket) => socket.on('message', (data) => socket.send(data)))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

function config(web: readonly TestUpstream[], ws: string): object {
  return {
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    shutdown: { drainDelay: '0s', drainTimeout: '3s' },
    reload: { watch: false },
    log: { access: 'off' },
    sessionSecrets: [SECRET],
    pools: [
      { name: 'web', endpoints: web.map((upstream) => upstream.url), drainTimeout: '1s', affinity: { mode: 'cookie', responseHeader: true } },
      { name: 'ws', endpoints: [ws] },
    ],
    routes: {
      rules: [
        {
          http: {
            paths: [
              { path: '/ws', pathType: 'Prefix', backend: { service: { name: 'ws' } } },
              { path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } },
            ],
          },
        },
      ],
    },
  }
}

interface Session {
  cookie: string
  seen: string[]
}

describe('hot reload', () => {
  let upstreams: TestUpstream[]
  let echo: { server: Server; url: string }
  let latch: LatchProcess
  const agent = new Agent({ connections: 32 })

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((name) => startUpstream(name)))
    echo = await startEchoServer()
    latch = await startLatch({ config: config(upstreams.slice(0, 5), echo.url) })
  })

  afterAll(async () => {
    await latch.stop()
    await agent.close()
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
    echo.server.close()
  })

  async function visit(session: Session): Promise<void> {
    const response = await request(`${latch.url}/page`, { dispatcher: agent, headers: session.cookie === '' ? {} : { cookie: session.cookie } })
    await response.body.dump()
    if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`)
    const setCookie = response.headers['set-cookie']
    if (setCookie !== undefined) session.cookie = String(Array.isArray(setCookie) ? setCookie[0] : setCookie).split(';')[0] as string
    session.seen.push(response.headers['x-upstream'] as string)
  }

  /** Keeps every session busy (bounded concurrency) until `until` resolves; returns failures. */
  async function keepVisiting(sessions: Session[], until: Promise<unknown>): Promise<string[]> {
    const failures: string[] = []
    let stop = false
    void until.then(() => (stop = true))
    let next = 0
    const worker = async (): Promise<void> => {
      while (!stop) {
        const session = sessions[next++ % sessions.length] as Session
        await visit(session).catch(async (error: Error) => {
          failures.push(error.message)
          // A failing request can reject without touching the event loop; yield so timers still run.
          await new Promise((resolve) => setImmediate(resolve))
        })
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    return failures
  }

  it('applies an endpoint change under sticky load: no failure, kept sessions stay, removed ones move once, WebSockets survive', async () => {
    const sessions: Session[] = Array.from({ length: SESSIONS }, () => ({ cookie: '', seen: [] }))
    for (let i = 0; i < SESSIONS; i += 50) await Promise.all(sessions.slice(i, i + 50).map(visit))
    const socket = new WebSocket(`${latch.url.replace('http', 'ws')}/ws`)
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject))

    // Remove e, add f, while traffic flows.
    let reloaded!: (value: unknown) => void
    const loadDone = new Promise((resolve) => (reloaded = resolve))
    const load = keepVisiting(sessions, loadDone)
    await new Promise((resolve) => setTimeout(resolve, 300))
    writeFileSync(latch.configFile as string, stringify(config([...upstreams.slice(0, 4), upstreams[5] as TestUpstream], echo.url)))
    const reply = await adminCall(latch, 'POST', '/reload')
    expect(reply.status).toBe(200)
    expect(reply.body.changes).toContain('pool web: endpoints updated')
    // Past the removed endpoint's drainTimeout (1 s), with its sessions still being visited.
    await new Promise((resolve) => setTimeout(resolve, 2500))
    reloaded(undefined)
    expect(await load).toEqual([])
    // One more visit for every session, past the drain: a slow machine may not have reached them all.
    for (let i = 0; i < SESSIONS; i += 50) await Promise.all(sessions.slice(i, i + 50).map(visit))

    const echoed = new Promise((resolve) => socket.once('message', (data) => resolve(String(data))))
    socket.send('still here')
    expect(await echoed).toBe('still here')
    socket.close()

    for (const session of sessions) {
      const home = session.seen[0] as string
      const moves = session.seen.filter((name, index) => index > 0 && name !== session.seen[index - 1]).length
      if (home !== 'e') expect(moves, `a session on ${home} moved: ${session.seen.join(',')}`).toBe(0)
      else {
        expect(moves, `a session on e: ${session.seen.join(',')}`).toBe(1)
        expect(session.seen.at(-1)).not.toBe('e')
      }
    }
    expect(sessions.some((session) => session.seen[0] === 'e')).toBe(true)
  }, 60_000)

  it('rejects every bad config under load, keeps serving the old one, names file and key, then accepts a valid one', async () => {
    const file = latch.configFile as string
    const valid = stringify(config(upstreams.slice(0, 5), echo.url))
    const variant = (edit: (draft: Record<string, any>) => void): string => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test edits a plain config object freely
      const draft = structuredClone(config(upstreams.slice(0, 5), echo.url)) as Record<string, any>
      edit(draft)
      return stringify(draft)
    }
    const corpus: [string, string | null, RegExp][] = [
      ['syntax error', 'pools: [\n  - name: web\n', /YAML syntax error/],
      ['unknown pool', variant((draft) => (draft.routes.rules[0].http.paths[1].backend.service.name = 'nope')), /routes\.rules\[0\]\.http\.paths\[1\]\.backend\.service\.name: unknown pool "nope"/],
      ['invalid regex', variant((draft) => Object.assign(draft.routes.rules[0].http.paths[0], { path: '([', pathType: 'ImplementationSpecific' })), /routes\.rules\[0\]\.http\.paths\[0\]\.path: invalid regular expression/],
      ['port out of range', variant((draft) => (draft.listen = '127.0.0.1:99999')), /listen: port 99999 is out of range/],
      ['empty file', '', /file is empty/],
      // Cut mid-value, as a half-written file is: `pathType: Pre`.
      ['truncated file', valid.slice(0, valid.indexOf('pathType: Prefix') + 'pathType: Pre'.length), /routes\.rules\[0\]\.http\.paths\[0\]\.pathType/],
      ['unreadable file', null, /file not found/],
    ]
    const sessions: Session[] = Array.from({ length: 50 }, () => ({ cookie: '', seen: [] }))
    let done!: (value: unknown) => void
    const load = keepVisiting(sessions, new Promise((resolve) => (done = resolve)))
    for (const [name, content, expected] of corpus) {
      if (content === null) rmSync(file)
      else writeFileSync(file, content)
      const reply = await adminCall(latch, 'POST', '/reload')
      expect(reply.status, name).toBe(422)
      const issues = reply.body.issues as string[]
      expect(issues.length, name).toBeGreaterThan(0)
      expect(issues.join('\n'), name).toMatch(expected)
      for (const issue of issues) expect(issue.startsWith(`${file}: `), `${name}: ${issue}`).toBe(true)
    }
    const pools = await adminCall(latch, 'GET', '/pools')
    expect((pools.body.pools as { name: string; endpoints: unknown[] }[]).find((pool) => pool.name === 'web')?.endpoints).toHaveLength(5)
    writeFileSync(file, valid)
    const accepted = await adminCall(latch, 'POST', '/reload')
    expect(accepted.status).toBe(200)
    done(undefined)
    expect(await load).toEqual([])
    // Log lines arrive through the child's stdout, possibly after the admin replies: wait for them.
    const rejected = (): LogLine[] => latch.logs.filter((line) => line.msg?.startsWith('config rejected') === true)
    await waitFor(() => rejected().length >= corpus.length, 5000, 20, 'every rejection logged')
    expect(rejected().length).toBe(corpus.length)
  }, 60_000)

  it('reloads on SIGHUP', async () => {
    const before = latch.logs.filter((line) => line.msg === 'config reloaded' && line.trigger === 'signal').length
    writeFileSync(latch.configFile as string, stringify(config(upstreams.slice(0, 4), echo.url)))
    latch.child.kill('SIGHUP')
    // Match on the trigger: a previous test's admin reload may log after `before` was counted.
    const line = await waitFor(() => latch.logs.filter((entry) => entry.msg === 'config reloaded' && entry.trigger === 'signal')[before], 5000, 20, 'SIGHUP reload')
    expect(line.changes).toContain('pool web: endpoints updated')
  })

  it('reloads once when the watched file changes in a burst of writes, tolerating a partial write', async () => {
    const watched = await startLatch({ config: { ...config(upstreams.slice(0, 2), echo.url), reload: { watch: true, debounce: '300ms' } } })
    try {
      const file = watched.configFile as string
      const full = stringify({ ...config(upstreams.slice(0, 3), echo.url), reload: { watch: true, debounce: '300ms' } })
      writeFileSync(file, full.slice(0, 40))
      writeFileSync(file, full.slice(0, full.length - 30))
      writeFileSync(file, full)
      const reloaded = await waitFor(() => watched.logs.find((entry) => entry.msg === 'config reloaded'), 5000, 20, 'file reload')
      expect(reloaded.trigger).toBe('file')
      await new Promise((resolve) => setTimeout(resolve, 800))
      expect(watched.logs.filter((entry) => entry.msg === 'config reloaded' || entry.msg?.startsWith('config rejected') === true)).toHaveLength(1)
      const pools = await adminCall(watched, 'GET', '/pools')
      expect((pools.body.pools as { name: string; endpoints: unknown[] }[]).find((pool) => pool.name === 'web')?.endpoints).toHaveLength(3)
    } finally {
      await watched.stop()
    }
  })
})
