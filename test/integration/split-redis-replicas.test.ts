/**
 * Sticky canary across two Latch replicas sharing a real redis-server (no sessionSecrets: the
 * signing secret is shared through Redis). An HTTPRoute rule splits pools `main` and `canary` with
 * rule-level cookie sessionPersistence; every client alternates between the replicas. Weights move
 * 10 → 50 → 90 % by reloading one replica at a time: no live session changes backend at any step
 * (also while the replicas disagree on the weights), and new clients follow the new weights (±3 points).
 */
import { writeFileSync } from 'node:fs'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { firstShare, movedClients, reloadBySignal, splitRoute, visitAcross } from '../helpers/canary-traffic.js'
import type { LatchProcess } from '../helpers/latch-process.js'
import { startReplicas } from '../helpers/redis-replicas.js'
import { startRedis, stopAllRedis, type RedisServer } from '../helpers/redis-server.js'
import { SessionClient } from '../helpers/session-clients.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { stringify } from 'yaml'

let redis: RedisServer
let upstreams: TestUpstream[]
let replicas: LatchProcess[]
let agent: Agent

function config(canaryWeight: number): object {
  const urls = (prefix: string): string[] => upstreams.filter((upstream) => upstream.name.startsWith(prefix)).map((upstream) => upstream.url)
  return {
    listen: '127.0.0.1:0',
    admin: { listen: false },
    store: { type: 'redis', url: redis.url, commandTimeout: '1s' },
    log: { level: 'info', access: 'off' },
    reload: { watch: false },
    shutdown: { drainDelay: '0s', drainTimeout: '3s' },
    pools: [
      { name: 'main', endpoints: urls('m'), affinity: { responseHeader: true } },
      { name: 'canary', endpoints: urls('c'), affinity: { responseHeader: true } },
    ],
    routes: [splitRoute('shop', '/', { main: 100 - canaryWeight, canary: canaryWeight }, { type: 'Cookie', sessionName: 'shop', absoluteTimeout: '1h' })],
  }
}

beforeAll(async () => {
  redis = await startRedis()
  upstreams = await Promise.all(['m1', 'm2', 'c1', 'c2'].map((name) => startUpstream(name)))
  replicas = await startReplicas(2, config(10))
  agent = new Agent({ connections: 32, keepAliveTimeout: 10_000 })
})

afterAll(async () => {
  await agent?.close()
  await Promise.all((replicas ?? []).map((latch) => latch.stop('SIGKILL')))
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  await stopAllRedis()
})

function newClients(count: number, firstIndex: number): SessionClient[] {
  return Array.from({ length: count }, (_, i) => {
    const client = new SessionClient(firstIndex + i, 'cookie')
    client.cookieName = 'shop'
    return client
  })
}

describe('sticky canary across two replicas sharing Redis, reloaded one at a time', () => {
  it('1,000 clients at 10 %, then 50 % and 90 %: 0 live sessions change backend; new clients follow within ±3 points', async () => {
    const urls = replicas.map((latch) => latch.url)
    const all = newClients(1000, 0)
    let round = 0
    await visitAcross(all, urls, round++, agent, '/')
    expect(Math.abs(firstShare(all, 'c') - 10)).toBeLessThanOrEqual(3)
    for (const weight of [50, 90]) {
      for (const latch of replicas) {
        writeFileSync(latch.configFile as string, stringify(config(weight)))
        await reloadBySignal(latch)
        // Between the two reloads the replicas disagree on the weights: sessions stay put all the same.
        await visitAcross(all, urls, round++, agent, '/')
        expect(movedClients(all)).toHaveLength(0)
      }
      const fresh = newClients(1000, all.length)
      await visitAcross(fresh, urls, round++, agent, '/')
      await visitAcross(fresh, urls, round++, agent, '/')
      console.info(`two replicas at ${weight} %: ${movedClients(all).length} of ${all.length} sessions moved; new clients ${firstShare(fresh, 'c').toFixed(1)} % canary, ${movedClients(fresh).length} moved across replicas`)
      expect(movedClients(fresh)).toHaveLength(0)
      expect(Math.abs(firstShare(fresh, 'c') - weight)).toBeLessThanOrEqual(3)
      all.push(...fresh)
    }
    expect(all.every((client) => client.visits.slice(1).every((visit) => visit.affinity === 'hit'))).toBe(true)
  })
})
