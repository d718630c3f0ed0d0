/**
 * Issue 15, risk 8: an endpoint that stops answering (process stopped, or accepting and never
 * answering) is `stalled` after `passiveHealth.stallTimeout` and gets no new request, with the defaults.
 */
import type { ServerResponse } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { adminCall, scrapeMetrics } from '../helpers/admin-client.js'
import { startChildUpstream, type ChildUpstream } from '../helpers/child-upstream.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { sendAtRate, type RateTraffic } from '../helpers/rate-traffic.js'
import { logLines, sleep } from '../helpers/traffic.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

/** The schema's default `limits.maxRequestsPerEndpoint`. */
const MAX_REQUESTS_PER_ENDPOINT = 128

let latch: LatchProcess | undefined
let children: ChildUpstream[] = []
let upstreams: TestUpstream[] = []
let traffic: RateTraffic | undefined

afterEach(async () => {
  for (const child of children) child.resume()
  // Latch first: requests an upstream still holds fail then, and the traffic loop can end.
  await latch?.stop()
  await traffic?.stop()
  await Promise.all([...children, ...upstreams].map((upstream) => upstream.stop()))
  latch = undefined
  traffic = undefined
  children = []
  upstreams = []
})

/** The pool over `urls` with every setting at its default. */
function startDefaultPool(urls: readonly string[]): Promise<LatchProcess> {
  return startLatch({ config: { listen: '127.0.0.1:0', log: { level: 'info', access: 'off' }, pools: [{ name: 'web', endpoints: [...urls] }] } })
}

interface EndpointView {
  readonly id: string
  readonly state: string
  readonly inflight: number
  readonly stalls: number
}

async function endpointView(running: LatchProcess, id: string): Promise<EndpointView | undefined> {
  const reply = await adminCall(running, 'GET', '/pools')
  const pools = reply.body.pools as { endpoints: EndpointView[] }[]
  return pools[0]?.endpoints.find((endpoint) => endpoint.id === id)
}

async function stateGauge(running: LatchProcess, id: string, state: string): Promise<number | undefined> {
  const { families } = await scrapeMetrics(running)
  return families.get('latch_endpoint_state')?.samples.find((sample) => sample.labels.endpoint === id && sample.labels.state === state)?.value
}

describe('a stalled endpoint', () => {
  it('SIGSTOP of one of three endpoints under 300 req/s: at most maxRequestsPerEndpoint delayed, none sent to it from 3 s on', async () => {
    children = await Promise.all(['a', 'b', 'c'].map((name) => startChildUpstream(name)))
    const [, , c] = children as [ChildUpstream, ChildUpstream, ChildUpstream]
    const cId = new URL(c.url).host
    latch = await startDefaultPool(children.map((child) => child.url))
    const running = latch
    // 300 req/s for 7 s: 1.5 s before the stop, 5.5 s after (2,100 requests in all).
    traffic = sendAtRate(`${running.url}/app`, 300, 2100)
    await sleep(1500)
    c.pause()
    const stoppedAt = Date.now()

    const stalled = await waitFor(async () => ((await endpointView(running, cId))?.state === 'stalled' ? Date.now() : 0), 5000, 50, 'c stalled in /pools')
    expect(stalled - stoppedAt).toBeLessThan(3000)
    expect(await stateGauge(running, cId, 'stalled')).toBe(1)
    expect(logLines(running, 'endpoint state changed', { endpoint: cId, to: 'stalled' })).toHaveLength(1)
    await waitFor(() => (traffic as RateTraffic).answers.length >= 2100, 15_000, 50, 'every request sent')
    // On a busy machine the client lags: wait until the only requests left unanswered are those c holds.
    await waitFor(async () => (traffic as RateTraffic).answers.filter((answer) => answer.doneAt === undefined).length === (await endpointView(running, cId))?.inflight, 15_000, 100, 'only c\'s requests unanswered')

    // Let c answer what queued up, then count: the delayed requests are those c could only answer after.
    const resumedAt = Date.now()
    c.resume()
    await traffic.stop()
    const answers = traffic.answers
    expect(answers.filter((answer) => answer.failed || answer.status !== 200)).toEqual([])
    const delayed = answers.filter((answer) => answer.upstream === 'c' && (answer.doneAt as number) >= resumedAt)
    expect(delayed.length).toBeGreaterThan(0)
    expect(delayed.length).toBeLessThanOrEqual(MAX_REQUESTS_PER_ENDPOINT)
    expect(answers.filter((answer) => answer.upstream === 'c' && answer.sentAt > stoppedAt + 3000)).toEqual([])
    // Its first answer ended the stall.
    await waitFor(async () => (await endpointView(running, cId))?.state === 'healthy', 5000, 50, 'c healthy again')
    expect(await endpointView(running, cId)).toMatchObject({ stalls: 1 })
  })

  it('accepting and never answering, under light traffic: no new request from 3 s on, back on its first answer', async () => {
    upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
    const [, , c] = upstreams as [TestUpstream, TestUpstream, TestUpstream]
    const cId = `127.0.0.1:${c.port}`
    latch = await startDefaultPool(upstreams.map((upstream) => upstream.url))
    const running = latch
    // 30 req/s, 10 of them to c: without stall detection c would fill its 128 slots only after 12.8 s.
    traffic = sendAtRate(`${running.url}/app`, 30, 400)
    await sleep(1000)
    const held: { at: number; res: ServerResponse }[] = []
    c.mode = { kind: 'custom', handle: (_req, res) => void held.push({ at: Date.now(), res }) }
    const heldAt = Date.now()
    await sleep(heldAt + 6000 - Date.now())
    expect(held.length).toBeGreaterThan(0)
    expect(held.filter((request) => request.at > heldAt + 3000).map((request) => request.at - heldAt)).toEqual([])
    expect(await endpointView(running, cId)).toMatchObject({ state: 'stalled', stalls: 1 })

    // c answers again: its first answer ends the stall and new requests reach it.
    c.mode = { kind: 'echo' }
    for (const { res } of held) res.writeHead(200, { 'x-upstream': 'c' }).end('late')
    await waitFor(async () => (await endpointView(running, cId))?.state === 'healthy', 5000, 50, 'c healthy again')
    const resumedAt = Date.now()
    await waitFor(() => (traffic as RateTraffic).answers.some((answer) => answer.upstream === 'c' && answer.sentAt > resumedAt), 5000, 50, 'a new request answered by c')
  })
})
