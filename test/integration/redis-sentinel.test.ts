/**
 * Redis Sentinel failover: a master, a replica and three Sentinels started by the test; Latch is
 * configured with `sentinels` and `name` only. The master is killed under steady load: no client
 * gets an error, Latch follows the promoted master, and bindings made after the failover land in it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall } from '../helpers/admin-client.js'
import type { LatchProcess } from '../helpers/latch-process.js'
import { startRedis, stopAllRedis, type RedisServer } from '../helpers/redis-server.js'
import { asClient, replicaConfig, sessionUpstream, startReplicas } from '../helpers/redis-replicas.js'
import { client, startLoad } from '../helpers/replica-load.js'
import { sleep } from '../helpers/traffic.js'
import type { TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let master: RedisServer
let replica: RedisServer
let sentinels: RedisServer[]
let upstreams: TestUpstream[]
let latch: LatchProcess

beforeAll(async () => {
  master = await startRedis()
  replica = await startRedis({ conf: [`replicaof 127.0.0.1 ${master.port}`] })
  await waitFor(async () => (await master.command('INFO', 'replication')).includes('connected_slaves:1'), 10_000, 50, 'the replica to attach')
  sentinels = await Promise.all(
    [1, 2, 3].map(() =>
      startRedis({
        sentinel: true,
        conf: [`sentinel monitor mymaster 127.0.0.1 ${master.port} 2`, 'sentinel down-after-milliseconds mymaster 1000', 'sentinel failover-timeout mymaster 5000', 'sentinel parallel-syncs mymaster 1'],
      }),
    ),
  )
  // Every Sentinel knows the replica and the other Sentinels before the failover.
  await waitFor(async () => (await Promise.all(sentinels.map((sentinel) => sentinel.command('SENTINEL', 'master', 'mymaster')))).every((reply) => /num-slaves\r\n\$1\r\n1\r\n/.test(reply) && /num-other-sentinels\r\n\$1\r\n2\r\n/.test(reply)), 15_000, 100, 'the Sentinels to know each other and the replica')
  upstreams = await Promise.all(['u1', 'u2'].map(sessionUpstream))
  ;[latch] = (await startReplicas(1, replicaConfig({ type: 'redis', sentinels: sentinels.map((sentinel) => `127.0.0.1:${sentinel.port}`), name: 'mymaster' }, upstreams))) as [LatchProcess]
})

afterAll(async () => {
  await latch?.stop('SIGKILL')
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  await stopAllRedis()
})

describe('Redis Sentinel failover', () => {
  it('follows the promoted master without a client error', async () => {
    const ready = await adminCall(latch, 'GET', '/readyz')
    expect((ready.body.details as Record<string, { detail: string }>).redis?.detail).toMatch(/^connected to sentinel master "mymaster" via 127\.0\.0\.1:\d+/)
    expect((await asClient(latch, '/ip', '10.20.0.1')).status).toBe(200)
    expect(await master.command('EXISTS', 'latch:b:ip:ip:10.20.0.1')).toBe(':1\r\n')

    let n = 0
    const load = startLoad([latch], Array.from({ length: 30 }, () => client(`c${++n}`, '/ip', `10.21.0.${n}`)), 100)
    await sleep(1000)
    await master.kill()
    // The Sentinels promote the replica; Latch finds it through them.
    await waitFor(async () => (await replica.command('ROLE')).includes('master'), 20_000, 100, 'the replica to be promoted')
    await waitFor(async () => (await asClient(latch, '/ip', '10.22.0.1')).status === 200 && (await replica.command('EXISTS', 'latch:b:ip:ip:10.22.0.1')) === ':1\r\n', 15_000, 200, 'Latch to write to the promoted master')
    load.add(Array.from({ length: 10 }, () => client(`c${++n}`, '/ip', `10.21.0.${n}`)))
    await sleep(1000)
    await load.stop()

    expect(load.answers.length).toBeGreaterThan(200)
    expect(load.answers.filter((answer) => answer.status !== 200)).toEqual([])
    expect((await adminCall(latch, 'GET', '/readyz')).status).toBe(200)
    // Bindings of clients first seen after the failover are in the new master.
    expect(await replica.command('EXISTS', `latch:b:ip:ip:10.21.0.${n}`)).toBe(':1\r\n')
  }, 60_000)
})
