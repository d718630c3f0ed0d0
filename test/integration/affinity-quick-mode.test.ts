/**
 * Quick mode `latch --listen … --upstream a,b,c --affinity cookie|client-ip|hash|none` (and the
 * benchmark harness's aliases `ip` and `rr`), through the real CLI: each mode keeps a client on one
 * endpoint its own way, says so in `X-Latch-Affinity` (on by default in quick mode), and `none`
 * spreads requests. A mode that does not exist is refused with a message naming the flag.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../helpers/http-client.js'
import { runCli, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

let upstreams: TestUpstream[]
const running: LatchProcess[] = []

beforeAll(async () => {
  upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
})

afterAll(async () => {
  await Promise.all(running.map((latch) => latch.stop()))
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
})

async function quick(affinity: string): Promise<LatchProcess> {
  const latch = await startLatch({ args: ['--listen', '127.0.0.1:0', '--upstream', upstreams.map((upstream) => upstream.url).join(','), '--affinity', affinity, '--access-log', 'off'] })
  running.push(latch)
  return latch
}

interface Hop {
  readonly upstream: string
  readonly outcome: string | undefined
  readonly setCookie: string[] | undefined
}

async function hop(latch: LatchProcess, options: { cookie?: string; localAddress?: string } = {}): Promise<Hop> {
  const response = await send({ port: latch.port, path: '/x', headers: options.cookie === undefined ? {} : { cookie: options.cookie }, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) })
  expect(response.status).toBe(200)
  return { upstream: String(response.headers['x-upstream']), outcome: response.headers['x-latch-affinity'] as string | undefined, setCookie: response.headers['set-cookie'] }
}

describe('quick mode --affinity', () => {
  it('cookie: a new client gets a signed cookie and stays on its endpoint; clients without it spread', async () => {
    const latch = await quick('cookie')
    const sessions: Hop[] = []
    for (let i = 0; i < 3; i++) sessions.push(await hop(latch))
    expect(sessions.map((session) => session.outcome)).toEqual(['new', 'new', 'new'])
    expect(new Set(sessions.map((session) => session.upstream)).size).toBe(3)
    for (const session of sessions) {
      const cookie = (session.setCookie?.[0] ?? '').split(';')[0] as string
      expect(cookie).toMatch(/^latch=[A-Za-z0-9_-]{58}$/)
      for (let i = 0; i < 4; i++) expect(await hop(latch, { cookie })).toEqual({ upstream: session.upstream, outcome: 'hit', setCookie: undefined })
    }
  })

  it.each(['client-ip', 'ip'])('%s: each client address stays on the endpoint its first request was given', async (mode) => {
    const latch = await quick(mode)
    const firsts: string[] = []
    for (const address of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) {
      const first = await hop(latch, { localAddress: address })
      expect(first.outcome).toBe('new')
      firsts.push(first.upstream)
      for (let i = 0; i < 4; i++) expect(await hop(latch, { localAddress: address })).toEqual({ upstream: first.upstream, outcome: 'hit', setCookie: undefined })
    }
    expect(new Set(firsts).size).toBe(3)
  })

  it('hash: the client address hashes to one endpoint, with no state and no cookie', async () => {
    const latch = await quick('hash')
    const chosen = new Set<string>()
    for (const address of ['127.0.0.21', '127.0.0.22', '127.0.0.23', '127.0.0.24', '127.0.0.25', '127.0.0.26']) {
      const first = await hop(latch, { localAddress: address })
      chosen.add(first.upstream)
      for (let i = 0; i < 3; i++) {
        const again = await hop(latch, { localAddress: address })
        expect(again.upstream).toBe(first.upstream)
        expect(again.setCookie).toBeUndefined()
      }
    }
    expect(chosen.size).toBeGreaterThan(1)
  })

  it.each(['none', 'rr'])('%s: no stickiness, no affinity header, no cookie: requests spread over every endpoint', async (mode) => {
    const latch = await quick(mode)
    const reached = new Set<string>()
    for (let i = 0; i < 6; i++) {
      const answer = await hop(latch, { localAddress: '127.0.0.31' })
      expect(answer.outcome).toBeUndefined()
      expect(answer.setCookie).toBeUndefined()
      reached.add(answer.upstream)
    }
    expect(reached.size).toBe(3)
  })

  it('--session-secret and LATCH_SESSION_SECRET: proxies with the same secret honour each other\'s cookie and do not warn; without one, one warning', async () => {
    const secret = 'quick-mode-test-secret-0123456789'
    const args = ['--listen', '127.0.0.1:0', '--upstream', upstreams.map((upstream) => upstream.url).join(','), '--affinity', 'cookie', '--access-log', 'off']
    const fromFlag = await startLatch({ args: [...args, '--session-secret', secret] })
    running.push(fromFlag)
    const fromEnv = await startLatch({ args, env: { LATCH_SESSION_SECRET: secret } })
    running.push(fromEnv)
    const generated = await quick('cookie')
    const first = await hop(fromFlag)
    const cookie = (first.setCookie?.[0] ?? '').split(';')[0] as string
    expect(await hop(fromEnv, { cookie })).toEqual({ upstream: first.upstream, outcome: 'hit', setCookie: undefined })
    expect((await hop(generated, { cookie })).outcome).toBe('invalid')
    const secretWarnings = (latch: LatchProcess): number => latch.logs.filter((line) => String(line.msg).startsWith('no sessionSecrets configured')).length
    expect([secretWarnings(fromFlag), secretWarnings(fromEnv), secretWarnings(generated)]).toEqual([0, 0, 1])
    expect(generated.logs.find((line) => String(line.msg).startsWith('no sessionSecrets configured'))?.msg).toContain('--session-secret or LATCH_SESSION_SECRET')
  })

  it('an unknown mode is refused, naming the flag and the modes', async () => {
    const { code, stderr } = await runCli(['--listen', '127.0.0.1:0', '--upstream', 'http://127.0.0.1:1', '--affinity', 'sticky'])
    expect(code).not.toBe(0)
    expect(stderr).toContain('--affinity')
    expect(stderr).toContain('cookie')
  })
})
