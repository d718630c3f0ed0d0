/**
 * Issue 15, defect 3: Latch running out of its own file descriptors is Latch's failure, not the
 * endpoint's. Latch runs under `ulimit -n 256` and gets more concurrent connections than that.
 */
import { Agent, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { adminCall } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { logLines } from '../helpers/traffic.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

let latch: LatchProcess | undefined
let upstreams: TestUpstream[] = []

afterEach(async () => {
  await latch?.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
  latch = undefined
  upstreams = []
})

const FD_LIMIT = 256
const CONNECTIONS = 400
const ROUNDS = 4

interface Outcome {
  readonly status: number | undefined
  readonly code: string | undefined
  readonly retryAfter: string | undefined
  /** The connection failed (refused or closed at accept): no answer at all. */
  readonly failed: boolean
}

/** ROUNDS rounds of CONNECTIONS requests at once, each on its own connection. */
async function burst(url: string): Promise<Outcome[]> {
  const outcomes: Outcome[] = []
  for (let round = 0; round < ROUNDS; round++) {
    const dispatcher = new Agent({ connections: CONNECTIONS, pipelining: 0, connect: { timeout: 5000 }, headersTimeout: 15_000, bodyTimeout: 15_000 })
    const answers = await Promise.all(
      Array.from({ length: CONNECTIONS }, async (): Promise<Outcome> => {
        try {
          const response = await request(`${url}/app`, { dispatcher, reset: true })
          await response.body.dump()
          const header = (name: string): string | undefined => {
            const value = response.headers[name]
            return typeof value === 'string' ? value : undefined
          }
          return { status: response.statusCode, code: header('x-latch-error'), retryAfter: header('retry-after'), failed: false }
        } catch {
          return { status: undefined, code: undefined, retryAfter: undefined, failed: true }
        }
      }),
    )
    outcomes.push(...answers)
    await dispatcher.destroy()
  }
  return outcomes
}

describe('Latch out of file descriptors', () => {
  it('answers 503 ERR_PROXY_RESOURCES with Retry-After, never blames the endpoint, logs at a bounded rate, and warns at start', async () => {
    upstreams = await Promise.all(['a', 'b'].map((name) => startUpstream(name, { mode: { kind: 'delay', ms: 200 } })))
    latch = await startLatch({
      fdLimit: FD_LIMIT,
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: 'off' },
        pools: [{ name: 'web', endpoints: upstreams.map((upstream) => upstream.url), passiveHealth: { consecutiveFailures: 3 } }],
      },
    })
    const running = latch
    const logsBefore = running.logs.length
    const startedAt = Date.now()
    const outcomes = await burst(running.url)
    const seconds = (Date.now() - startedAt) / 1000
    const answered = outcomes.filter((outcome) => !outcome.failed)
    const local = answered.filter((outcome) => outcome.code === 'ERR_PROXY_RESOURCES')

    // Nothing was blamed on the endpoints: no 502, no ejection, no failure counted.
    expect(answered.filter((outcome) => outcome.status === 502).length).toBe(0)
    // Latch did run out (else this test proves nothing), and said so with its own code.
    expect(local.length).toBeGreaterThan(0)
    expect(local.every((outcome) => outcome.status === 503 && outcome.retryAfter !== undefined)).toBe(true)
    expect(logLines(running, 'endpoint ejected by passive health')).toEqual([])
    const pools = (await adminCall(running, 'GET', '/pools')).body as { pools: { endpoints: { failures: number; ejections: number; state: string }[] }[] }
    for (const endpoint of pools.pools[0]?.endpoints ?? []) expect(endpoint).toMatchObject({ failures: 0, ejections: 0, state: 'healthy' })
    // At most one line per second about it (plus a few others), not one per failed request.
    const written = running.logs.slice(logsBefore)
    expect(written.length).toBeLessThanOrEqual(Math.ceil(seconds) + 5)
    expect(logLines(running, 'Latch is out of a system resource').length).toBeGreaterThan(0)
    // It could have been told at start.
    const warning = logLines(running, 'the file-descriptor limit is too low for this config')[0]
    expect(warning).toMatchObject({ level: 'warn', limit: FD_LIMIT, maxConnections: 10_000 })
  })
})
