/**
 * Two Latch replicas (real CLI processes) sharing one real redis-server: clients alternating between
 * the replicas stay on one endpoint in client-ip, learn and cookie modes (the cookie secret is not
 * configured: it is shared through Redis); 200 new clients whose first requests reach both replicas
 * at once converge; the sessions of an endpoint put in maintenance move to the same new endpoint on
 * both replicas; a drain through replica A's admin API is honoured by replica B within 1 s;
 * session counts are cluster-wide (least-sessions on B sees A's sessions); `/readyz` and `/metrics` report Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall, endpointAction, scrapeMetrics } from '../helpers/admin-client.js'
import type { LatchProcess } from '../helpers/latch-process.js'
import { startRedis, stopAllRedis, type RedisServer } from '../helpers/redis-server.js'
import { asClient, keepCookies, replicaConfig, sessionUpstream, startReplicas } from '../helpers/redis-replicas.js'
import type { TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let redis: RedisServer
let upstreams: TestUpstream[]
let a: LatchProcess
let b: LatchProcess

beforeAll(async () => {
  redis = await startRedis()
  upstreams = await Promise.all(['u1', 'u2', 'u3'].map(sessionUpstream))
  // A generous command timeout: this file is about what replicas share, on a machine shared with other
  // test runs (400 requests at once can take longer than 75 ms here); redis-stall and redis-kill test
  // the default timeout and the fallback.
  ;[a, b] = (await startReplicas(2, replicaConfig({ type: 'redis', url: redis.url, commandTimeout: '1s' }, upstreams))) as [LatchProcess, LatchProcess]
})

afterAll(async () => {
  await Promise.all([a, b].map((latch) => latch?.stop('SIGKILL')))
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  await stopAllRedis()
})

/** Which upstream answered each of `rounds` requests of one client, alternating a, b, a, … */
async function alternate(path: string, ip: string, rounds: number, jar = new Map<string, string>()): Promise<{ upstreams: string[]; outcomes: string[] }> {
  const seen: string[] = []
  const outcomes: string[] = []
  let cookie: string | undefined
  for (let i = 0; i < rounds; i++) {
    const response = await asClient(i % 2 === 0 ? a : b, path, ip, cookie)
    expect(response.status).toBe(200)
    seen.push(String(response.headers['x-upstream']))
    outcomes.push(String(response.headers['x-latch-affinity']))
    cookie = keepCookies(jar, response)
  }
  return { upstreams: seen, outcomes }
}

describe('Latch replicas sharing a Redis store', () => {
  it('keeps client-ip clients on one endpoint whichever replica they reach', async () => {
    const spread = new Set<string>()
    for (let client = 1; client <= 20; client++) {
      const { upstreams: seen, outcomes } = await alternate('/ip', `10.1.0.${client}`, 6)
      expect(new Set(seen).size, `client 10.1.0.${client}: ${seen.join(', ')}`).toBe(1)
      expect(outcomes).toEqual(['new', 'hit', 'hit', 'hit', 'hit', 'hit'])
      spread.add(seen[0] as string)
    }
    expect(spread.size).toBeGreaterThan(1)
  })

  it('keeps learn sessions (JSESSIONID) on one endpoint whichever replica they reach', async () => {
    for (let client = 1; client <= 10; client++) {
      const { upstreams: seen, outcomes } = await alternate('/learn', `10.2.0.${client}`, 6)
      expect(new Set(seen).size, `learn client ${client}: ${seen.join(', ')}`).toBe(1)
      // The binding is learned while the first response is sent: the second request may reach the
      // other replica before it is in Redis ('new'), and first-binding-wins still gives it the same endpoint.
      expect(['hit', 'new']).toContain(outcomes[1])
      expect(outcomes.slice(2)).toEqual(['hit', 'hit', 'hit', 'hit'])
    }
  })

  it('keeps cookie sessions on one endpoint: both replicas sign with the secret shared through Redis', async () => {
    expect(a.logs.some((line) => line.msg === 'signing affinity tokens with the secret shared through Redis')).toBe(true)
    expect(b.logs.some((line) => line.msg === 'signing affinity tokens with the secret shared through Redis')).toBe(true)
    expect(a.logs.some((line) => String(line.msg).startsWith('no sessionSecrets configured'))).toBe(false)
    for (let client = 1; client <= 10; client++) {
      const { upstreams: seen, outcomes } = await alternate('/cookie', `10.3.0.${client}`, 6)
      expect(new Set(seen).size).toBe(1)
      expect(outcomes).toEqual(['new', 'hit', 'hit', 'hit', 'hit', 'hit'])
    }
  })

  it('converges 200 new clients whose first requests reach both replicas at the same moment', async () => {
    const clients = Array.from({ length: 200 }, (_, i) => `10.4.${Math.floor(i / 100)}.${i % 100}`)
    const first = await Promise.all(clients.flatMap((ip) => [asClient(a, '/ip', ip), asClient(b, '/ip', ip)]))
    const split = clients.filter((_, i) => first[2 * i]?.headers['x-upstream'] !== first[2 * i + 1]?.headers['x-upstream'])
    expect(split, `clients bound to two endpoints: ${split.join(', ')}`).toEqual([])
    expect(first.every((response) => response.status === 200)).toBe(true)
    // And they stay there.
    const again = await Promise.all(clients.map((ip, i) => asClient(i % 2 === 0 ? b : a, '/ip', ip)))
    clients.forEach((_, i) => expect(again[i]?.headers['x-upstream']).toBe(first[2 * i]?.headers['x-upstream']))
  })

  it('honours a drain made through replica A on replica B within a second', async () => {
    const target = upstreams[0] as TestUpstream
    const id = new URL(target.url).host
    const started = Date.now()
    await endpointAction(a, 'ip', id, 'drain')
    await waitFor(async () => {
      const pools = (await adminCall(b, 'GET', '/pools')).body.pools as { name: string; endpoints: { id: string; adminState: string }[] }[]
      return pools.find((pool) => pool.name === 'ip')?.endpoints.find((endpoint) => endpoint.id === id)?.adminState === 'draining'
    }, 1000, 10, 'replica B to see the drain')
    const elapsed = Date.now() - started
    expect(elapsed).toBeLessThan(1000)
    // New clients on B no longer go to the drained endpoint.
    const fresh = await Promise.all(Array.from({ length: 30 }, (_, i) => asClient(b, '/ip', `10.5.0.${i}`)))
    expect(fresh.filter((response) => response.headers['x-upstream'] === target.name)).toEqual([])
    // Undrain travels the same way; a replica started later learns the current state from Redis.
    await endpointAction(b, 'ip', id, 'maintenance')
    const [late] = await startReplicas(1, replicaConfig({ type: 'redis', url: redis.url, commandTimeout: '1s' }, upstreams))
    try {
      const pools = (await adminCall(late as LatchProcess, 'GET', '/pools')).body.pools as { name: string; endpoints: { id: string; adminState: string }[] }[]
      expect(pools.find((pool) => pool.name === 'ip')?.endpoints.find((endpoint) => endpoint.id === id)?.adminState).toBe('maintenance')
    } finally {
      await late?.stop('SIGKILL')
    }
    await endpointAction(a, 'ip', id, 'undrain')
    await waitFor(async () => {
      const pools = (await adminCall(b, 'GET', '/pools')).body.pools as { name: string; endpoints: { id: string; adminState: string }[] }[]
      return pools.find((pool) => pool.name === 'ip')?.endpoints.find((endpoint) => endpoint.id === id)?.adminState === 'active'
    }, 1000, 10, 'replica B to see the undrain')
  })

  it('moves the sessions of an unavailable endpoint to the same new endpoint on every replica', async () => {
    // Clients bound (on both replicas) before their endpoint goes into maintenance.
    const clients = Array.from({ length: 60 }, (_, i) => `10.6.0.${i}`)
    const bound = await Promise.all(clients.map(async (ip) => String((await asClient(a, '/ip', ip)).headers['x-upstream'])))
    await Promise.all(clients.map((ip) => asClient(b, '/ip', ip)))
    const victim = upstreams.find((upstream) => bound.filter((name) => name === upstream.name).length >= 5) as TestUpstream
    const moved = clients.filter((_, i) => bound[i] === victim.name)
    const id = new URL(victim.url).host
    await endpointAction(a, 'ip', id, 'maintenance')
    await waitFor(async () => {
      const pools = (await adminCall(b, 'GET', '/pools')).body.pools as { name: string; endpoints: { id: string; adminState: string }[] }[]
      return pools.find((pool) => pool.name === 'ip')?.endpoints.find((endpoint) => endpoint.id === id)?.adminState === 'maintenance'
    }, 1000, 10, 'replica B to see the maintenance')
    try {
      // Both replicas see each moved client's next request at the same moment.
      const next = await Promise.all(moved.flatMap((ip) => [asClient(a, '/ip', ip), asClient(b, '/ip', ip)]))
      moved.forEach((ip, i) => {
        const [fromA, fromB] = [next[2 * i], next[2 * i + 1]]
        expect(fromA?.headers['x-upstream'], ip).not.toBe(victim.name)
        expect(fromB?.headers['x-upstream'], ip).toBe(fromA?.headers['x-upstream'])
        expect([fromA?.headers['x-latch-affinity'], fromB?.headers['x-latch-affinity']]).toContain('rebound')
      })
      // The others never moved.
      const stayed = clients.filter((_, i) => bound[i] !== victim.name)
      for (const ip of stayed.slice(0, 10)) expect((await asClient(b, '/ip', ip)).headers['x-upstream']).toBe(bound[clients.indexOf(ip)])
    } finally {
      await endpointAction(a, 'ip', id, 'undrain')
    }
  })

  it('counts live sessions cluster-wide: least-sessions on B fills the endpoint that A left empty', async () => {
    const [u1, u2, u3] = upstreams as [TestUpstream, TestUpstream, TestUpstream]
    const id3 = new URL(u3.url).host
    // Twenty sessions through A while u3 is in maintenance: ten each on u1 and u2.
    await endpointAction(a, 'least', id3, 'maintenance')
    const onA = []
    for (let i = 0; i < 20; i++) onA.push(String((await asClient(a, '/least', `10.7.1.${i}`)).headers['x-upstream']))
    expect(onA.filter((name) => name === u1.name)).toHaveLength(10)
    expect(onA.filter((name) => name === u2.name)).toHaveLength(10)
    await endpointAction(a, 'least', id3, 'undrain')
    // They are counted in Redis (A writes them in the background)…
    const live = (upstream: TestUpstream) => redis.command('ZCARD', `latch:l:{least:cookie}:${new URL(upstream.url).host}`)
    await waitFor(async () => (await live(u1)) === ':10\r\n' && (await live(u2)) === ':10\r\n', 3000, 20, "A's sessions in Redis")
    // …and B, which has seen none of them itself, reads the counts from Redis (at most once a second,
    // in the background: two sessions a second apart make sure its copy is current).
    await asClient(b, '/least', '10.7.1.100')
    await new Promise((resolve) => setTimeout(resolve, 1100))
    await asClient(b, '/least', '10.7.1.101')
    await new Promise((resolve) => setTimeout(resolve, 300))
    const onB = []
    for (let i = 0; i < 3; i++) onB.push(String((await asClient(b, '/least', `10.7.2.${i}`)).headers['x-upstream']))
    expect(onB).toEqual([u3.name, u3.name, u3.name])
  })

  it('heals a missed admin message with the periodic reconcile', async () => {
    // A change recorded in Redis whose message nobody received (written straight into the record).
    const id = new URL((upstreams[2] as TestUpstream).url).host
    await redis.command('HSET', 'latch:admin', `learn\0${id}`, `maintenance|${Date.now()}`)
    const state = async (latch: LatchProcess): Promise<string | undefined> => {
      const pools = (await adminCall(latch, 'GET', '/pools')).body.pools as { name: string; endpoints: { id: string; adminState: string }[] }[]
      return pools.find((pool) => pool.name === 'learn')?.endpoints.find((endpoint) => endpoint.id === id)?.adminState
    }
    await waitFor(async () => (await state(a)) === 'maintenance' && (await state(b)) === 'maintenance', 7000, 100, 'both replicas to reconcile')
    await endpointAction(b, 'learn', id, 'undrain')
    await waitFor(async () => (await state(a)) === 'active', 1000, 10, 'the undrain on A')
  })

  it('keeps every key under the prefix with a TTL', async () => {
    const keys = (await redis.command('KEYS', '*')).split('\r\n').filter((line) => line.startsWith('latch:'))
    expect(keys.length).toBeGreaterThan(100)
    for (const key of keys.slice(0, 200)) {
      const ttl = Number((await redis.command('PTTL', key)).slice(1))
      expect(ttl, key).toBeGreaterThan(0)
    }
    expect(keys.some((key) => key.startsWith('latch:b:ip:ip:10.1.0.'))).toBe(true)
    expect(keys.some((key) => key.startsWith('latch:b:learn:learn:'))).toBe(true)
  })

  it('reports Redis in /readyz details and in metrics', async () => {
    const ready = await adminCall(a, 'GET', '/readyz')
    expect(ready.status).toBe(200)
    expect((ready.body.details as Record<string, { ok: boolean; detail: string }>).redis).toEqual({ ok: true, detail: `connected to ${redis.url}` })
    const { families } = await scrapeMetrics(a)
    expect(families.get('latch_redis_up')?.samples[0]?.value).toBe(1)
    expect(families.get('latch_redis_commands_total')?.samples[0]?.value).toBeGreaterThan(0)
    expect(families.get('latch_redis_fallbacks_total')?.samples[0]?.value).toBe(0)
  })
})
