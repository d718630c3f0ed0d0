/**
 * Redis restarted empty under steady session traffic, behind two Latch replicas: the live-session
 * counts that `least-sessions` and a draining Pod's preStop hook read (`/pools` → `sessions`) come
 * back on both replicas within seconds, written back from what each replica knows locally. Without
 * that, they stay at 0 until every session happens to be re-reported (up to a minute with the
 * default live window).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall } from '../helpers/admin-client.js'
import type { LatchProcess } from '../helpers/latch-process.js'
import { startRedis, stopAllRedis, type RedisServer } from '../helpers/redis-server.js'
import { asClient, keepCookies, replicaConfig, sessionUpstream, startReplicas } from '../helpers/redis-replicas.js'
import { client, startLoad, type Load } from '../helpers/replica-load.js'
import { sleep } from '../helpers/traffic.js'
import type { TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const SESSIONS = 150
/** How soon after the restart the counts must be back. */
const BACK_WITHIN_MS = 15_000

let redis: RedisServer
let upstreams: TestUpstream[]
let replicas: LatchProcess[]
let load: Load | undefined

beforeAll(async () => {
  redis = await startRedis()
  upstreams = await Promise.all(['u1', 'u2', 'u3'].map(sessionUpstream))
  replicas = await startReplicas(2, replicaConfig({ type: 'redis', url: redis.url }, upstreams))
})

afterAll(async () => {
  await load?.stop()
  await Promise.all((replicas ?? []).map((latch) => latch.stop('SIGKILL')))
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  await stopAllRedis()
})

/** Live sessions of the `cookie` pool as a replica's `/pools` reports them, summed over its endpoints. */
async function liveSessions(latch: LatchProcess): Promise<number> {
  const reply = await adminCall(latch, 'GET', '/pools')
  const pool = (reply.body.pools as { name: string; endpoints: { sessions: number }[] }[]).find((one) => one.name === 'cookie')
  return (pool?.endpoints ?? []).reduce((sum, endpoint) => sum + endpoint.sessions, 0)
}

describe('Redis restarted empty', () => {
  it(`live-session counts are back on every replica within ${BACK_WITHIN_MS / 1000} s`, async () => {
    // 150 cookie clients that keep making requests (each about once a second), alternating replicas.
    const clients = Array.from({ length: SESSIONS }, (_, i) => client(`cookie-${i}`, '/cookie', `10.9.${Math.floor(i / 200)}.${i % 200}`))
    // Each session starts before the load, so that a slow first answer cannot start a second one.
    const [first] = replicas as [LatchProcess]
    for (const one of clients) keepCookies(one.jar, await asClient(first, '/cookie', one.ip))
    load = startLoad(replicas, clients, SESSIONS)
    const before: number[] = []
    for (const replica of replicas) {
      await waitFor(async () => {
        before.push(await liveSessions(replica))
        return before.at(-1) === SESSIONS
      }, 15_000, 200, `${SESSIONS} live sessions before the restart`).catch((error: Error) => {
        throw new Error(`${error.message} (last seen: ${before.at(-1)})`)
      })
    }

    await redis.kill()
    await sleep(1000)
    const restartedAt = Date.now()
    await redis.restart() // a new process with no persistence: empty

    // Until a replica is connected again it shows the sessions it knows itself; the test is about after.
    const reconnected = (replica: LatchProcess): boolean => replica.logs.some((line) => line.msg === 'redis store reachable again; writing back bindings made meanwhile')
    for (const replica of replicas) await waitFor(() => reconnected(replica), BACK_WITHIN_MS, 50, 'the replicas to reconnect to Redis')
    const reconnectedMs = Date.now() - restartedAt
    // Right after reconnecting, a replica may show its own counts for a moment (until its first fetch,
    // counts are fetched at most once a second): 150 on both replicas must hold for over a second.
    const readings: string[] = []
    let allSince: number | undefined
    await waitFor(async () => {
      const both = await Promise.all(replicas.map(liveSessions))
      readings.push(both.join('/'))
      if (!both.every((count) => count === SESSIONS)) allSince = undefined
      else allSince ??= Date.now()
      return allSince !== undefined && Date.now() - allSince >= 1200
    }, Math.max(1, BACK_WITHIN_MS - (Date.now() - restartedAt)), 200, `${SESSIONS} live sessions in /pools after the restart`).catch((error: Error) => {
      throw new Error(`${error.message} (readings: ${readings.join(' ')})`)
    })
    console.log('after the restart: replicas reconnected within', reconnectedMs, 'ms; live sessions back (and held for 1.2 s) within', Date.now() - restartedAt, 'ms', readings.join(' '))
    await load.stop()
    load = undefined
    // No client lost its session meanwhile (a new cookie would be a new session: more than 150).
    for (const replica of replicas) expect(await liveSessions(replica)).toBe(SESSIONS)
  }, 60_000)
})
