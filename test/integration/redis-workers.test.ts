/**
 * `--workers 2` with a Redis store: each worker uses Redis directly, like a replica of its own, so a
 * Latch with workers and a single-process Latch beside it agree on client-ip bindings, sign cookies
 * with one shared secret, and share drains both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall, endpointAction, scrapeMetrics } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startRedis, stopAllRedis, type RedisServer } from '../helpers/redis-server.js'
import { asClient, keepCookies, replicaConfig, sessionUpstream, startReplicas } from '../helpers/redis-replicas.js'
import type { TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let redis: RedisServer
let upstreams: TestUpstream[]
let workers: LatchProcess
let single: LatchProcess

beforeAll(async () => {
  redis = await startRedis()
  upstreams = await Promise.all(['u1', 'u2', 'u3'].map(sessionUpstream))
  const config = replicaConfig({ type: 'redis', url: redis.url }, upstreams, { extra: { admin: { listen: '127.0.0.1:0' }, shutdown: { drainDelay: '0s', drainTimeout: '2s' } } })
  workers = await startLatch({ config, args: ['--workers', '2'], timeoutMs: 20_000 })
  ;[single] = (await startReplicas(1, config)) as [LatchProcess]
}, 30_000)

afterAll(async () => {
  if (workers !== undefined && workers.child.exitCode === null) workers.child.kill('SIGKILL')
  await single?.stop('SIGKILL')
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  await stopAllRedis()
})

type Pools = { name: string; endpoints: { id: string; adminState: string }[] }[]
async function adminStateOn(latch: LatchProcess, pool: string, id: string): Promise<string | undefined> {
  const pools = (await adminCall(latch, 'GET', '/pools')).body.pools as Pools
  return pools.find((candidate) => candidate.name === pool)?.endpoints.find((endpoint) => endpoint.id === id)?.adminState
}

describe('--workers with a Redis store', () => {
  it('agrees with a single-process replica on client-ip bindings (every worker uses Redis)', async () => {
    for (let client = 0; client < 13; client++) {
      const ip = `10.30.0.${client}`
      const seen = new Set<string>()
      for (let round = 0; round < 4; round++) seen.add(String((await asClient(round % 2 === 0 ? workers : single, '/ip', ip)).headers['x-upstream']))
      expect([ip, seen.size]).toEqual([ip, 1])
      expect(await redis.command('EXISTS', `latch:b:ip:ip:${ip}`)).toBe(':1\r\n')
    }
    const { families } = await scrapeMetrics(workers)
    expect(families.get('latch_redis_up')?.samples[0]?.value).toBe(1)
  })

  it('signs cookies with the secret shared through Redis in every worker and replica', async () => {
    const jar = new Map<string, string>()
    const first = await asClient(workers, '/cookie', '10.31.0.1')
    const cookie = keepCookies(jar, first)
    for (let i = 0; i < 6; i++) {
      const response = await asClient(i % 2 === 0 ? single : workers, '/cookie', '10.31.0.1', cookie)
      expect(response.headers['x-latch-affinity']).toBe('hit')
      expect(response.headers['x-upstream']).toBe(first.headers['x-upstream'])
    }
  })

  it('shares drains both ways within a second', async () => {
    const id = new URL((upstreams[1] as TestUpstream).url).host
    let started = Date.now()
    await endpointAction(workers, 'ip', id, 'drain')
    await waitFor(async () => (await adminStateOn(single, 'ip', id)) === 'draining', 1000, 10, 'the single replica to see the drain')
    expect(Date.now() - started).toBeLessThan(1000)
    started = Date.now()
    await endpointAction(single, 'ip', id, 'undrain')
    await waitFor(async () => (await adminStateOn(workers, 'ip', id)) === 'active', 1000, 10, 'both workers to see the undrain')
    expect(Date.now() - started).toBeLessThan(1000)
  })
})
