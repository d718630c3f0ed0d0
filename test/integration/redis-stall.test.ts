/**
 * Redis stalled with SIGSTOP for 10 s (connections stay open, nothing answers) behind two Latch
 * replicas under steady load with new clients arriving: no request waits on Redis beyond the command
 * timeout (measured loosely), commands do not pile up (the breaker stops sending), no client gets a
 * 5xx, and after SIGCONT the store recovers by itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall, scrapeMetrics } from '../helpers/admin-client.js'
import type { LatchProcess } from '../helpers/latch-process.js'
import { startRedis, stopAllRedis, type RedisServer } from '../helpers/redis-server.js'
import { replicaConfig, sessionUpstream, startReplicas } from '../helpers/redis-replicas.js'
import { client, percentile, startLoad } from '../helpers/replica-load.js'
import { sleep } from '../helpers/traffic.js'
import type { TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const COMMAND_TIMEOUT_MS = 75
let redis: RedisServer
let upstreams: TestUpstream[]
let replicas: LatchProcess[]

beforeAll(async () => {
  redis = await startRedis()
  upstreams = await Promise.all(['u1', 'u2'].map(sessionUpstream))
  replicas = await startReplicas(2, replicaConfig({ type: 'redis', url: redis.url, commandTimeout: `${COMMAND_TIMEOUT_MS}ms` }, upstreams))
})

afterAll(async () => {
  redis?.resume()
  await Promise.all((replicas ?? []).map((latch) => latch.stop('SIGKILL')))
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  await stopAllRedis()
})

async function gauge(latch: LatchProcess, name: string): Promise<number> {
  const { families } = await scrapeMetrics(latch)
  return families.get(name)?.samples[0]?.value ?? NaN
}

async function timeoutCount(latch: LatchProcess): Promise<number> {
  const { families } = await scrapeMetrics(latch)
  return families.get('latch_redis_command_errors_total')?.samples.find((sample) => sample.labels.kind === 'timeout')?.value ?? NaN
}

describe('Redis stalled by SIGSTOP', () => {
  it('never holds a request beyond the command timeout, piles nothing up, and recovers after SIGCONT', async () => {
    const [a, b] = replicas as [LatchProcess, LatchProcess]
    let n = 0
    const fresh = (count: number) => Array.from({ length: count }, () => client(`c${++n}`, '/ip', `10.9.${Math.floor(n / 200)}.${n % 200}`))
    const load = startLoad([a, b], fresh(40), 150)
    await sleep(1500)
    const stoppedAt = Date.now()
    redis.pause()
    // Every second, new clients (store misses: the path that would wait on Redis).
    const pendings: number[] = []
    let timeoutsEarly: number[] = []
    for (let second = 0; second < 10; second++) {
      load.add(fresh(10))
      await sleep(1000)
      if (second % 3 === 1) pendings.push(await gauge(a, 'latch_redis_pending_commands'), await gauge(b, 'latch_redis_pending_commands'))
      if (second === 1) timeoutsEarly = await Promise.all([a, b].map(timeoutCount))
    }
    const timeoutsLate = await Promise.all([a, b].map(timeoutCount))
    const resumedAt = Date.now()
    redis.resume()
    await waitFor(async () => (await gauge(a, 'latch_redis_up')) === 1 && (await gauge(b, 'latch_redis_up')) === 1, 5000, 50, 'both replicas to use Redis again')
    await sleep(1000)
    await load.stop()

    const during = load.answers.filter((answer) => answer.sentAt >= stoppedAt && answer.sentAt < resumedAt)
    const latencies = during.map((answer) => answer.latencyMs)
    const before = load.answers.filter((answer) => answer.sentAt < stoppedAt).map((answer) => answer.latencyMs)
    const figures = { requests: load.answers.length, duringStall: during.length, p99BeforeMs: percentile(before, 99), p99DuringMs: percentile(latencies, 99), maxPending: Math.max(...pendings), timeoutsEarly, timeoutsLate }
    console.log('redis SIGSTOP 10 s:', JSON.stringify(figures))
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([])
    expect(during.length).toBeGreaterThan(1000)
    // Only the commands in flight when Redis stopped waited for their timeout: then the breaker
    // stopped sending, so from the second second on, no request waited on Redis and nothing piled up.
    expect(timeoutsLate).toEqual(timeoutsEarly)
    expect(figures.maxPending).toBeLessThan(50)
    // Loosely (the machine is shared): the stall adds at most about one command timeout at p99.
    expect(figures.p99DuringMs).toBeLessThan(figures.p99BeforeMs + COMMAND_TIMEOUT_MS + 250)
    const ready = await adminCall(a, 'GET', '/readyz')
    expect((ready.body.details as Record<string, { detail: string }>).redis?.detail).toBe(`connected to ${redis.url}`)
    expect(a.logs.some((line) => String(line.msg).startsWith('redis store unavailable: no answer within commandTimeout (75 ms)'))).toBe(true)
  }, 60_000)
})
