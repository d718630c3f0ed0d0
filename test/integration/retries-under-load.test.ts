import { createHash, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import { accessLines, type LatchProcess } from '../helpers/latch-process.js'
import { startOnePool } from '../helpers/one-pool.js'
import { startUpstream, type TestUpstream, type UpstreamMode } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

interface Result {
  readonly status: number
  readonly upstream: string | undefined
  readonly code: string | undefined
  readonly body: string
}

let latches: LatchProcess[] = []
let upstreams: TestUpstream[] = []
let client: Agent | undefined

afterEach(async () => {
  await client?.close()
  await Promise.all(latches.map((latch) => latch.stop()))
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
  latches = []
  upstreams = []
  client = undefined
})

async function startUpstreams(modes: Record<string, UpstreamMode>): Promise<TestUpstream[]> {
  const started = await Promise.all(Object.entries(modes).map(([name, mode]) => startUpstream(name, { mode })))
  upstreams.push(...started)
  return started
}

async function startPool(endpoints: readonly TestUpstream[], pool: Record<string, unknown>, access = 'off'): Promise<LatchProcess> {
  // Passive health off: every request keeps meeting the faulty endpoint, so each one exercises the retry rules.
  const latch = await startOnePool(endpoints, { passiveHealth: { enabled: false }, ...pool }, access)
  latches.push(latch)
  return latch
}

/** Sends `count` requests, `concurrency` at a time; `body(i)` gives a POST body (GET when undefined). */
async function send(latch: LatchProcess, count: number, body: (i: number) => Buffer | undefined, concurrency = 16): Promise<Result[]> {
  client ??= new Agent({ connections: concurrency })
  const dispatcher = client
  const results: Result[] = new Array(count)
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < count; i = next++) {
      const payload = body(i)
      const response = await request(`${latch.url}/r/${i}`, { dispatcher, method: payload === undefined ? 'GET' : 'POST', ...(payload === undefined ? {} : { body: payload }) })
      const header = (name: string): string | undefined => (typeof response.headers[name] === 'string' ? (response.headers[name] as string) : undefined)
      results[i] = { status: response.statusCode, upstream: header('x-upstream'), code: header('x-latch-error'), body: await response.body.text() }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return results
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')
const arrivals = (list: readonly TestUpstream[]): number => list.reduce((sum, upstream) => sum + upstream.arrivals.length, 0)

describe('retries through the CLI', () => {
  it('retries connect failures elsewhere: with one of three endpoints refusing, 1,000 GETs and 1,000 POSTs with bodies all succeed', async () => {
    const [a, b, c] = (await startUpstreams({ a: { kind: 'echo' }, b: { kind: 'echo' }, c: { kind: 'echo' } })) as [TestUpstream, TestUpstream, TestUpstream]
    const latch = await startPool([a, b, c], { retry: { budget: 1 } }, 'stdout')
    await c.stop()
    const bodies = Array.from({ length: 1000 }, (_, i) => randomBytes(1024 + (i % 3072)))
    const gets = await send(latch, 1000, () => undefined)
    const posts = await send(latch, 1000, (i) => bodies[i])
    expect(gets.filter((result) => result.status !== 200)).toEqual([])
    expect(posts.filter((result) => result.status !== 200)).toEqual([])
    // Every POST body arrived whole, and every request arrived exactly once.
    posts.forEach((result, i) => expect((JSON.parse(result.body) as { bodySha256: string }).bodySha256).toBe(sha256(bodies[i] as Buffer)))
    expect(a.arrivals.length + b.arrivals.length).toBe(2000)
    // The refusing endpoint kept being picked: about a third of the requests needed a second attempt.
    // Access lines are written asynchronously: wait for all of them.
    const lines = await waitFor(() => (accessLines(latch).length >= 2000 ? accessLines(latch) : undefined), 10_000, 20, '2000 access lines')
    expect(lines).toHaveLength(2000)
    const retried = lines.filter((line) => line.attempts === 2)
    expect(retried.length).toBeGreaterThan(400)
    expect(retried.filter((line) => line.method === 'POST').length).toBeGreaterThan(200)
  })

  it('never sends a POST twice: an endpoint dying after reading it means 502, and it arrived exactly once', async () => {
    const die: UpstreamMode = { kind: 'custom', handle: (req) => req.socket.destroy() }
    const [a, b, c] = (await startUpstreams({ a: { kind: 'echo' }, b: die, c: { kind: 'echo' } })) as [TestUpstream, TestUpstream, TestUpstream]
    const latch = await startPool([a, b, c], { retry: { budget: 1 } })
    const posts = await send(latch, 300, () => randomBytes(2048), 8)
    const failed = posts.filter((result) => result.status === 502)
    expect(failed.length).toBeGreaterThan(50)
    expect(failed.every((result) => result.code === 'ERR_UPSTREAM_RESET')).toBe(true)
    expect(b.arrivals).toHaveLength(failed.length)
    expect(arrivals([a, b, c])).toBe(300)
    // A bodiless GET is safe to send again: the same fault costs it one retry, not a failure.
    const before = arrivals([a, c])
    const gets = await send(latch, 300, () => undefined, 8)
    expect(gets.filter((result) => result.status !== 200)).toEqual([])
    expect(arrivals([a, c]) - before).toBe(300)
  })

  it('answers with the endpoint\'s own status when no other endpoint is left to retry on', async () => {
    const both = await startUpstreams({ a: { kind: 'status', status: 503 }, b: { kind: 'status', status: 503 } })
    const latch = await startPool(both, { retry: { attempts: 2, onStatus: [503] } })
    const [result] = await send(latch, 1, () => undefined, 1)
    expect(result).toMatchObject({ status: 503, code: undefined })
    expect(result?.upstream).toMatch(/^[ab]$/)
    expect(arrivals(both)).toBe(2)
  })
})

describe('retry budget through the CLI', () => {
  const REQUESTS = 300

  it('caps the retries of a pool whose every endpoint answers 503 at budget × requests + the floor', async () => {
    const failing = await startUpstreams({ a: { kind: 'status', status: 503 }, b: { kind: 'status', status: 503 }, c: { kind: 'status', status: 503 } })
    const budget = 0.2
    const minRetriesPerSecond = 1
    const capped = await startPool(failing, { retry: { attempts: 2, onStatus: [503], budget, minRetriesPerSecond } })
    const results = await send(capped, REQUESTS, () => undefined, 10)
    expect(results.every((result) => result.status === 503 && result.upstream !== undefined)).toBe(true)
    const withBudget = arrivals(failing)
    // The budget window is 10 s; all requests fall in it. +1: the retry that reaches the bound.
    expect(withBudget).toBeLessThanOrEqual((1 + budget) * REQUESTS + minRetriesPerSecond * 10 + 1)
    expect(withBudget).toBeGreaterThan(REQUESTS + minRetriesPerSecond * 10)

    // The same traffic with the budget out of the way: every request tries all three endpoints.
    const uncapped = await startPool(failing, { retry: { attempts: 2, onStatus: [503], budget: 1, minRetriesPerSecond: 10_000 } })
    await send(uncapped, REQUESTS, () => undefined, 10)
    expect(arrivals(failing) - withBudget).toBe(3 * REQUESTS)
  })
})
