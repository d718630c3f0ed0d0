/**
 * A Redis store over TLS (`rediss://`, the CA trusted through NODE_EXTRA_CA_CERTS) with an ACL user
 * whose keys and channels are limited to `latch:*`: Latch works, which also shows that every key and
 * channel it uses is under the prefix. A user limited to other keys gets a precise "permission
 * denied" in the log and `/readyz`, and Latch still serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall } from '../helpers/admin-client.js'
import { createTestCa, type TestCa } from '../helpers/certificates.js'
import type { LatchProcess } from '../helpers/latch-process.js'
import { freePort, startRedis, stopAllRedis, type RedisServer } from '../helpers/redis-server.js'
import { asClient, keepCookies, replicaConfig, sessionUpstream, startReplicas } from '../helpers/redis-replicas.js'
import type { TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let ca: TestCa
let redis: RedisServer
let tlsPort: number
let upstreams: TestUpstream[]
const started: LatchProcess[] = []

beforeAll(async () => {
  ca = createTestCa()
  const server = ca.issue('redis', '127.0.0.1', ['IP:127.0.0.1'])
  tlsPort = await freePort()
  redis = await startRedis({
    conf: [
      `tls-port ${tlsPort}`,
      `tls-cert-file ${server.cert}`,
      `tls-key-file ${server.key}`,
      `tls-ca-cert-file ${ca.caCert}`,
      'tls-auth-clients no',
      'user latch on >latch-acl-password ~latch:* &latch:* +@all',
      'user other on >other-acl-password ~other:* &other:* +@all',
    ],
  })
  upstreams = await Promise.all(['u1', 'u2'].map(sessionUpstream))
})

afterAll(async () => {
  await Promise.all(started.map((latch) => latch.stop('SIGKILL')))
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  await stopAllRedis()
})

async function start(url: string): Promise<LatchProcess> {
  const [latch] = await startReplicas(1, replicaConfig({ type: 'redis', url }, upstreams), { NODE_EXTRA_CA_CERTS: ca.caCert })
  started.push(latch as LatchProcess)
  return latch as LatchProcess
}

describe('Redis over TLS with an ACL user', () => {
  it('shares bindings, the secret and sessions through rediss:// as a user limited to latch:* keys and channels', async () => {
    const [a, b] = [await start(`rediss://latch:latch-acl-password@127.0.0.1:${tlsPort}`), await start(`rediss://latch:latch-acl-password@127.0.0.1:${tlsPort}`)]
    expect((await adminCall(a, 'GET', '/readyz')).body.details).toMatchObject({ redis: { ok: true, detail: `connected to rediss://latch:***@127.0.0.1:${tlsPort}` } })
    for (let i = 0; i < 4; i++) expect((await asClient(i % 2 === 0 ? a : b, '/ip', '10.40.0.1')).headers['x-latch-affinity']).toBe(i === 0 ? 'new' : 'hit')
    const jar = new Map<string, string>()
    const cookie = keepCookies(jar, await asClient(a, '/cookie', '10.40.0.2'))
    expect((await asClient(b, '/cookie', '10.40.0.2', cookie)).headers['x-latch-affinity']).toBe('hit')
    expect(await redis.command('EXISTS', 'latch:b:ip:ip:10.40.0.1')).toBe(':1\r\n')
    expect(await redis.command('EXISTS', 'latch:secret')).toBe(':1\r\n')
    // Nothing was denied: every key and channel is under the prefix.
    expect([...a.logs, ...b.logs].filter((line) => String(line.msg).includes('permission denied'))).toEqual([])
  })

  it('names a permission problem precisely, and serves anyway', async () => {
    const latch = await start(`rediss://other:other-acl-password@127.0.0.1:${tlsPort}`)
    expect((await asClient(latch, '/ip', '10.40.0.3')).status).toBe(200)
    await waitFor(() => latch.logs.some((line) => String(line.msg).includes('permission denied')), 5000, 20, 'the permission problem in the log')
    const detail = ((await adminCall(latch, 'GET', '/readyz')).body.details as Record<string, { detail: string }>).redis?.detail
    expect(detail).toMatch(/permission denied \(NOPERM[^)]*\) — the ACL user needs .* on keys latch:\*/)
    // The probe reads under the prefix too, so the store does not flap between available and not.
    expect(latch.logs.filter((line) => line.msg === 'redis store connected' || line.msg === 'redis store reachable again; writing back bindings made meanwhile')).toEqual([])
  })
})
