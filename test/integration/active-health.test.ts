import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import type { LatchProcess, LogLine } from '../helpers/latch-process.js'
import { startOnePool } from '../helpers/one-pool.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { keepRequesting, logLines, logTime, sleep } from '../helpers/traffic.js'
import { waitFor } from '../helpers/wait.js'

const INTERVAL = 100
const JITTER = 0.1
const UNHEALTHY_AFTER = 3
const HEALTHY_AFTER = 2
// Above the interval on purpose: on a loaded machine a shorter timeout turns slow answers into failures.
const TIMEOUT = 250
// Room for a loaded 2-core CI machine; the bounds below are otherwise the checker's worst case.
const SLACK = 1500

const flipOf = (latch: LatchProcess, upstream: TestUpstream, to: string, after = 0): LogLine | undefined =>
  logLines(latch, 'endpoint state changed', { endpoint: `127.0.0.1:${upstream.port}`, to }).find((line) => logTime(line) >= after)

describe('active health checks through the CLI', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
    latch = await startOnePool(upstreams, {
      // Only active checks decide here: connect failures must not eject anything.
      passiveHealth: { enabled: false },
      healthCheck: { path: '/healthz', interval: `${INTERVAL}ms`, timeout: `${TIMEOUT}ms`, jitter: JITTER, unhealthyThreshold: UNHEALTHY_AFTER, healthyThreshold: HEALTHY_AFTER },
    })
  })

  afterAll(async () => {
    await latch.stop()
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
  })

  it('stops sending traffic to an endpoint within unhealthyThreshold intervals of its health path failing, and resumes within healthyThreshold intervals', async () => {
    const b = upstreams[1] as TestUpstream
    const traffic = keepRequesting(latch.url)
    try {
      await waitFor(() => traffic.from('b').length >= 10, 5000, 20, 'traffic on b')
      const failedAt = Date.now()
      b.healthStatus = 503
      const down = await waitFor(() => flipOf(latch, b, 'unhealthy', failedAt - 1000), 10_000, 20, 'b unhealthy')
      const downAt = logTime(down)
      await sleep(4 * INTERVAL) // watch the traffic after the flip
      const lastOnB = Math.max(...traffic.from('b').map((answer) => answer.at))
      // Upper bounds only: a probe under way at the switch may fail too, so the earliest flip is not
      // fixed here (the unit tests pin the exact number of probes per flip).
      expect(downAt - failedAt).toBeLessThanOrEqual((UNHEALTHY_AFTER + 1) * INTERVAL * (1 + JITTER) + SLACK)
      expect(lastOnB - failedAt).toBeLessThanOrEqual((UNHEALTHY_AFTER + 1) * INTERVAL * (1 + JITTER) + SLACK)
      // Nothing sent after the flip went to b (log times are whole milliseconds).
      expect(traffic.from('b', downAt + 1)).toEqual([])
      expect(traffic.answers.filter((answer) => answer.sentAt > downAt + 1).length).toBeGreaterThan(0)
      expect(down.reason).toBe(`health check: ${UNHEALTHY_AFTER} consecutive failures (status 503)`)

      const healedAt = Date.now()
      b.healthStatus = 200
      const firstAgain = await waitFor(() => traffic.from('b', healedAt)[0], 10_000, 20, 'traffic on b again')
      expect(firstAgain.at - healedAt).toBeLessThanOrEqual((HEALTHY_AFTER + 1) * INTERVAL * (1 + JITTER) + SLACK)
      expect(flipOf(latch, b, 'healthy', healedAt - 1000)?.reason).toBe(`health check: ${HEALTHY_AFTER} consecutive passes`)
    } finally {
      await traffic.stop()
    }
    // Client traffic never failed, and single probes were not logged at info level.
    expect(traffic.answers.every((answer) => answer.status === 200)).toBe(true)
    expect(latch.logs.filter((line) => line.msg === 'health probe')).toEqual([])
  })

  it('takes an endpoint that refuses connections out of rotation, and back once it listens again', async () => {
    const c = upstreams[2] as TestUpstream
    const traffic = keepRequesting(latch.url)
    try {
      const stoppedAt = Date.now()
      await c.stop()
      const down = await waitFor(() => flipOf(latch, c, 'unhealthy', stoppedAt - 1000), 10_000, 20, 'c unhealthy')
      expect(down.reason).toMatch(/^health check: 3 consecutive failures \(ECONNREFUSED /)
      await sleep(4 * INTERVAL) // watch the traffic while c is down
      const restartedAt = Date.now()
      await c.restart()
      await waitFor(() => traffic.from('c', restartedAt)[0], 10_000, 20, 'traffic on c again')
      // While c refused, a request picked for it was retried elsewhere (nothing had been sent).
      const whileDown = traffic.answers.filter((answer) => answer.sentAt > logTime(down) + 1 && answer.at < restartedAt)
      expect(whileDown.length).toBeGreaterThan(0)
      expect(whileDown.every((answer) => answer.upstream !== 'c')).toBe(true)
    } finally {
      await traffic.stop()
    }
    expect(traffic.answers.every((answer) => answer.status === 200)).toBe(true)
  })
})

describe('active health checks of hanging and resetting health endpoints', () => {
  let upstreams: TestUpstream[]
  let latch: LatchProcess
  const probeBehaviour = new Map<string, 'ok' | 'hang' | 'reset'>()

  beforeAll(async () => {
    // A health path of our own (not the helper's /healthz) so it can hang or reset.
    upstreams = await Promise.all(['hang', 'reset', 'fine'].map((name) => startUpstream(name, {
      mode: {
        kind: 'custom',
        handle: (req, res) => {
          const behaviour = req.url === '/probe' ? probeBehaviour.get(name) ?? 'ok' : 'ok'
          if (behaviour === 'reset') return void req.socket.destroy()
          if (behaviour === 'ok') res.writeHead(200, { 'x-upstream': name }).end('ok')
        },
      },
    })))
    latch = await startOnePool(upstreams, {
      // A timeout with room to spare: a slow machine must not turn a reset into a timeout.
      healthCheck: { path: '/probe', interval: '100ms', timeout: '400ms', unhealthyThreshold: 2 },
      // Two of three down would otherwise put the pool in panic mode (routing to all).
      passiveHealth: { panicThreshold: 0 },
    })
  })

  afterAll(async () => {
    await latch.stop()
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
  })

  it('marks an endpoint whose health path hangs or resets unhealthy, with the cause in the reason', async () => {
    const [hanging, resetting, fine] = upstreams as [TestUpstream, TestUpstream, TestUpstream]
    probeBehaviour.set('hang', 'hang')
    probeBehaviour.set('reset', 'reset')
    const hung = await waitFor(() => flipOf(latch, hanging, 'unhealthy'), 10_000, 20, 'hanging endpoint unhealthy')
    const reset = await waitFor(() => flipOf(latch, resetting, 'unhealthy'), 10_000, 20, 'resetting endpoint unhealthy')
    expect(hung.reason).toBe('health check: 2 consecutive failures (no complete answer within 400 ms)')
    expect(reset.reason).toMatch(/^health check: 2 consecutive failures \((UND_ERR_SOCKET|ECONNRESET) /)
    for (let i = 0; i < 6; i++) {
      const response = await request(`${latch.url}/x`)
      await response.body.dump()
      expect(response.headers['x-upstream']).toBe('fine')
    }
    expect(flipOf(latch, fine, 'unhealthy')).toBeUndefined()
  })
})
