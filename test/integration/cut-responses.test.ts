/**
 * Issue 15, defect 2: a response the endpoint cuts after its headers (reset mid-body) is a failure
 * for passive health, metrics and the access log, although the client already got a 200 head.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Agent, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { scrapeMetrics } from '../helpers/admin-client.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { logLines } from '../helpers/traffic.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let latch: LatchProcess | undefined
let upstreams: TestUpstream[] = []
let running = false
let loop: Promise<void> | undefined

afterEach(async () => {
  running = false
  await loop
  await latch?.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
  latch = undefined
  upstreams = []
})

/** Sends the head and part of a 1000-byte body, then resets the connection. */
function cutMidBody(name: string) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { 'x-upstream': name, 'content-type': 'text/plain', 'content-length': '1000' })
    res.write('partial')
    setTimeout(() => res.socket?.resetAndDestroy(), 10)
  }
}

/** Requests back to back until stopped; a cut body is read until it fails, as a client would. */
function requestInLoop(url: string): { cut: number; complete: number } {
  const seen = { cut: 0, complete: 0 }
  const dispatcher = new Agent({ connections: 1 })
  running = true
  loop = (async () => {
    while (running) {
      try {
        const response = await request(`${url}/app`, { dispatcher })
        await response.body.text()
        seen.complete++
      } catch {
        seen.cut++
      }
    }
    await dispatcher.close()
  })()
  return seen
}

describe('responses cut mid-body', () => {
  it('eject the endpoint after consecutiveFailures, and are counted and logged as the failure they are', async () => {
    const [a, b, c] = (upstreams = await Promise.all([startUpstream('a'), startUpstream('b'), startUpstream('c')]))
    ;(b as TestUpstream).mode = { kind: 'custom', handle: cutMidBody('b') }
    const bId = `127.0.0.1:${(b as TestUpstream).port}`
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'stdout' },
        pools: [{ name: 'web', endpoints: [a, b, c].map((upstream) => (upstream as TestUpstream).url), passiveHealth: { consecutiveFailures: 3, baseEjectionTime: '60s' } }],
      },
    })
    const seen = requestInLoop(latch.url)
    const running = latch
    // Before the fix every cut response reset the failure streak first (success on headers): never ejected.
    const ejected = await waitFor(() => logLines(running, 'endpoint ejected by passive health', { endpoint: bId })[0], 8000, 20, 'b ejected by passive health')
    expect(ejected).toMatchObject({ pool: 'web', ejections: 1 })
    expect(seen.cut).toBeGreaterThanOrEqual(3)

    // The access log: the exchange failed (502 and the cause's code), the 200 the client got kept aside.
    const cutLine = await waitFor(() => accessLines(running).find((line) => line.endpoint === bId), 5000, 20, 'an access line for b')
    expect(cutLine).toMatchObject({ status: 502, upstreamStatus: 200, attempts: 1 })
    expect(['ERR_UPSTREAM_RESET', 'ERR_UPSTREAM_RESPONSE']).toContain(cutLine.code)
    expect(accessLines(running).filter((line) => line.endpoint === bId).every((line) => line.status === 502)).toBe(true)

    // Metrics: no cut response counted as 2xx.
    const { families } = await scrapeMetrics(running)
    const ofB = families.get('latch_requests_total')?.samples.filter((sample) => sample.labels.endpoint === bId) ?? []
    expect(ofB.filter((sample) => sample.labels.class === '2xx')).toEqual([])
    expect(ofB.find((sample) => sample.labels.code === '502')?.value).toBeGreaterThanOrEqual(3)
  })
})
