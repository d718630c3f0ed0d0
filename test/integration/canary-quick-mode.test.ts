/**
 * Quick mode's one-line canary through the real CLI: `--upstream MAIN --canary CANARY
 * --canary-weight N -a cookie`. N % of new sessions go to the canary, every session stays on its
 * version, `--help` names the flags, and a bad weight or a canary without --upstream is refused.
 */
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cookieClients, firstShare, movedClients } from '../helpers/canary-traffic.js'
import { runCli, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { runClients } from '../helpers/session-clients.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

let upstreams: TestUpstream[]
let latch: LatchProcess
let agent: Agent

beforeAll(async () => {
  upstreams = await Promise.all(['m1', 'm2', 'c1'].map((name) => startUpstream(name)))
  const [m1, m2, c1] = upstreams.map((upstream) => upstream.url)
  latch = await startLatch({ args: ['--listen', '127.0.0.1:0', '--upstream', `${m1},${m2}`, '--canary', c1 as string, '--canary-weight', '20', '-a', 'cookie', '--access-log', 'off'] })
  agent = new Agent({ connections: 16 })
})

afterAll(async () => {
  await agent?.close()
  await latch?.stop()
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
})

describe('quick mode --canary URLS --canary-weight N', () => {
  it('sends 20 % of new sessions to the canary and keeps every session on its version', async () => {
    const clients = await cookieClients(latch.url, '/', 500, 'latch', agent)
    await runClients(clients, latch.url, { requests: 3, agent, path: '/' })
    expect(Math.abs(firstShare(clients, 'c') - 20)).toBeLessThanOrEqual(3)
    expect(movedClients(clients)).toHaveLength(0)
    expect(latch.logs.some((line) => typeof line.msg === 'string' && /affinity cookie/.test(line.msg))).toBe(false)
  })

  it('is in --help, and refuses a weight outside 0–100 and a canary without --upstream', async () => {
    expect((await runCli(['--help'])).stdout).toMatch(/--canary URL.*\n.*\n\s+--canary-weight N/)
    const badWeight = await runCli(['--upstream', 'http://127.0.0.1:1', '--canary', 'http://127.0.0.1:2', '--canary-weight', '150'])
    expect([badWeight.code, badWeight.stderr]).toEqual([2, expect.stringContaining('--canary-weight: expected a whole percentage from 0 to 100, got "150"')])
    const alone = await runCli(['--canary', 'http://127.0.0.1:2'])
    expect([alone.code, alone.stderr]).toEqual([2, expect.stringContaining('--canary needs --upstream')])
  })
})
