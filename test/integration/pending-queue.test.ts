import { afterEach, describe, expect, it } from 'vitest'
import { Agent, request } from 'undici'
import type { LatchProcess } from '../helpers/latch-process.js'
import { startOnePool } from '../helpers/one-pool.js'
import { startUpstream, type TestUpstream, type UpstreamMode } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const SLOW_MS = 300

/** Upstreams that answer SLOW_MS after arrival, but never before the gate opens; they count concurrency. */
class Gate {
  open = false
  readonly #held: (() => void)[] = []
  inflight = new Map<string, number>()
  maxInflight = new Map<string, number>()

  mode(name: string): UpstreamMode {
    return {
      kind: 'custom',
      handle: (_req, res) => {
        const now = (this.inflight.get(name) ?? 0) + 1
        this.inflight.set(name, now)
        this.maxInflight.set(name, Math.max(now, this.maxInflight.get(name) ?? 0))
        const answerAt = Date.now() + SLOW_MS
        const answer = (): void => {
          this.inflight.set(name, (this.inflight.get(name) ?? 1) - 1)
          res.writeHead(200, { 'x-upstream': name }).end('slow answer')
        }
        const afterGate = (): void => void setTimeout(answer, Math.max(0, answerAt - Date.now()))
        if (this.open) afterGate()
        else this.#held.push(afterGate)
      },
    }
  }

  release(): void {
    this.open = true
    for (const held of this.#held.splice(0)) held()
  }
}

interface Outcome {
  readonly status: number
  readonly code: string | undefined
  readonly retryAfter: string | undefined
  readonly at: number
}

let latch: LatchProcess | undefined
let upstreams: TestUpstream[] = []
let client: Agent | undefined
let gate: Gate

afterEach(async () => {
  gate.release()
  await client?.close()
  await latch?.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
  latch = undefined
  upstreams = []
})

async function start(names: readonly string[], limits: Record<string, unknown>): Promise<LatchProcess> {
  gate = new Gate()
  upstreams = await Promise.all(names.map((name) => startUpstream(name, { mode: gate.mode(name) })))
  latch = await startOnePool(upstreams, { limits })
  return latch
}

/** Starts `count` concurrent GETs, each on its own connection; outcomes fill in as they complete. */
function fire(url: string, count: number): { outcomes: Outcome[]; done: Promise<void> } {
  client = new Agent({ connections: count })
  const dispatcher = client
  const outcomes: Outcome[] = []
  const done = Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const response = await request(`${url}/slow/${i}`, { dispatcher })
      await response.body.dump()
      const header = (name: string): string | undefined => (typeof response.headers[name] === 'string' ? (response.headers[name] as string) : undefined)
      outcomes.push({ status: response.statusCode, code: header('x-latch-error'), retryAfter: header('retry-after'), at: Date.now() })
    }),
  ).then(() => undefined)
  return { outcomes, done }
}

describe('the pending queue through the CLI', () => {
  it('holds 500 concurrent slow requests to 10 per endpoint, queues 100 and refuses the rest at once with Retry-After', async () => {
    const latch = await start(['a', 'b', 'c'], { maxRequestsPerEndpoint: 10, maxPending: 100, queueTimeout: '30s' })
    const { outcomes, done } = fire(latch.url, 500)
    // 3 × 10 in flight + 100 queued: the other 370 are refused while no slow request has finished yet.
    await waitFor(() => outcomes.length >= 370, 20_000, 20, '370 refusals')
    expect(gate.open).toBe(false)
    expect(outcomes).toHaveLength(370)
    expect(outcomes.every((outcome) => outcome.status === 503 && outcome.code === 'ERR_QUEUE_FULL' && outcome.retryAfter === '1')).toBe(true)
    // The 30 admitted requests may still be connecting to their endpoints: they arrive, and stay held.
    await waitFor(() => [...gate.inflight.values()].join() === '10,10,10', 10_000, 20, '10 requests held by each endpoint')

    gate.release()
    await done
    const served = outcomes.filter((outcome) => outcome.status === 200)
    expect(served).toHaveLength(130)
    expect(outcomes.filter((outcome) => outcome.code === 'ERR_QUEUE_FULL')).toHaveLength(370)
    expect([...gate.maxInflight.values()]).toEqual([10, 10, 10])
    expect(upstreams.reduce((sum, upstream) => sum + upstream.arrivals.length, 0)).toBe(130)
  })

  it('answers a request that waited queueTimeout for a slot with 503 ERR_QUEUE_TIMEOUT and Retry-After', async () => {
    const latch = await start(['only'], { maxRequestsPerEndpoint: 1, maxPending: 5, queueTimeout: '300ms' })
    const first = fire(latch.url, 1)
    await waitFor(() => gate.inflight.get('only') === 1, 5000, 10, 'first request in flight')
    const queuedAt = Date.now()
    const response = await request(`${latch.url}/queued`)
    await response.body.dump()
    expect(response.statusCode).toBe(503)
    expect(response.headers['x-latch-error']).toBe('ERR_QUEUE_TIMEOUT')
    expect(response.headers['retry-after']).toBe('1')
    expect(Date.now() - queuedAt).toBeGreaterThanOrEqual(300 - 2)
    gate.release()
    await first.done
    expect(first.outcomes).toEqual([expect.objectContaining({ status: 200 })])
    expect(upstreams[0]?.arrivals).toHaveLength(1)
  })
})
