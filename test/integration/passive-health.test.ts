import { afterEach, describe, expect, it } from 'vitest'
import type { LatchProcess, LogLine } from '../helpers/latch-process.js'
import { startOnePool } from '../helpers/one-pool.js'
import { keepRequesting, logLines, logTime, sleep, type Traffic } from '../helpers/traffic.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let latch: LatchProcess | undefined
let upstreams: TestUpstream[] = []
let traffic: Traffic | undefined

/** Upstreams a, b, c (those named in `bad` answering 502 to everything but /healthz) behind one pool. */
async function start(passiveHealth: Record<string, unknown>, bad: readonly string[]): Promise<{ latch: LatchProcess; byName: Map<string, TestUpstream> }> {
  upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name, { mode: bad.includes(name) ? { kind: 'status', status: 502 } : { kind: 'echo' } })))
  latch = await startOnePool(upstreams, {
    // The health path of every endpoint keeps saying 200: only real traffic shows the fault.
    healthCheck: { path: '/healthz', interval: '100ms', timeout: '250ms' },
    passiveHealth: { consecutiveFailures: 3, ...passiveHealth },
  })
  traffic = keepRequesting(latch.url)
  return { latch, byName: new Map(upstreams.map((upstream) => [upstream.name, upstream])) }
}

afterEach(async () => {
  await traffic?.stop()
  await latch?.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
  traffic = undefined
  latch = undefined
  upstreams = []
})

const idOf = (upstream: TestUpstream | undefined): string => `127.0.0.1:${upstream?.port}`

describe('passive health through the CLI', () => {
  it('ejects an endpoint answering 502 after consecutiveFailures failures, longer on each repeat', async () => {
    const { latch, byName } = await start({ baseEjectionTime: '300ms' }, ['b'])
    const b = idOf(byName.get('b'))
    const readmissions = (): LogLine[] => logLines(latch, 'endpoint state changed', { endpoint: b, reason: 'passive health: ejection ended' })
    await waitFor(() => readmissions().length >= 2, 15_000, 20, 'two ejections of b ended')
    const [first, second] = logLines(latch, 'endpoint ejected by passive health', { endpoint: b }) as [LogLine, LogLine]
    expect(first).toMatchObject({ durationMs: 300, ejections: 1 })
    expect(second).toMatchObject({ durationMs: 600, ejections: 2 })
    const [back1, back2] = readmissions() as [LogLine, LogLine]
    // Log times are whole milliseconds and timers may fire a millisecond early: 2 ms of rounding.
    expect(logTime(back1) - logTime(first)).toBeGreaterThanOrEqual(300 - 2)
    expect(logTime(back2) - logTime(second)).toBeGreaterThanOrEqual(2 * 300 - 2)
    const t = traffic as Traffic
    // b served exactly consecutiveFailures requests before its first ejection, none while ejected.
    expect(t.from('b').filter((answer) => answer.sentAt < logTime(back1))).toHaveLength(3)
    expect(t.from('b', logTime(second) + 1).filter((answer) => answer.sentAt < logTime(back2) - 1)).toEqual([])
    expect(t.from('b').every((answer) => answer.status === 502)).toBe(true)
    // The health checks kept passing: active health never took part.
    expect(logLines(latch, 'endpoint state changed').filter((line) => String(line.reason).startsWith('health check'))).toEqual([])
  })

  it('never ejects more than maxEjectedPercent of the pool', async () => {
    const { latch, byName } = await start({ baseEjectionTime: '10s', maxEjectedPercent: 50 }, ['b', 'c'])
    const skipped = await waitFor(() => logLines(latch, 'endpoint not ejected: max ejected share reached')[0], 10_000, 20, 'an ejection refused')
    await sleep(300) // keep failing for a while: still only one of the two may be out
    const ejected = logLines(latch, 'endpoint ejected by passive health')
    expect(ejected).toHaveLength(1)
    const other = [idOf(byName.get('b')), idOf(byName.get('c'))].find((id) => id !== ejected[0]?.endpoint)
    expect(skipped).toMatchObject({ endpoint: other, maxEjectedPercent: 50 })
    // Said once, although the refused endpoint kept failing every request sent to it.
    expect(logLines(latch, 'endpoint not ejected: max ejected share reached')).toHaveLength(1)
    // The refused one still takes its share of the traffic; with 2 of 3 usable there is no panic.
    const otherName = other === idOf(byName.get('b')) ? 'b' : 'c'
    expect((traffic as Traffic).from(otherName, logTime(skipped)).length).toBeGreaterThan(0)
    expect(logLines(latch, 'pool entered panic mode: routing to all endpoints')).toEqual([])
  })

  it('routes to every endpoint in panic mode when fewer than panicThreshold % are healthy', async () => {
    const { latch } = await start({ baseEjectionTime: '10s', maxEjectedPercent: 100, panicThreshold: 50 }, ['b', 'c'])
    const panic = await waitFor(() => logLines(latch, 'pool entered panic mode: routing to all endpoints')[0], 10_000, 20, 'panic mode')
    expect(panic).toMatchObject({ pool: 'web', healthy: 1, total: 3, panicThreshold: 50 })
    expect(logLines(latch, 'endpoint ejected by passive health')).toHaveLength(2)
    // Both ejected endpoints take traffic again (their 10 s ejection is far from over).
    const t = traffic as Traffic
    await waitFor(() => t.from('b', logTime(panic)).length >= 3 && t.from('c', logTime(panic)).length >= 3, 5000, 20, 'traffic on b and c in panic')
    expect(t.from('a', logTime(panic)).length).toBeGreaterThan(0)
  })
})
