/**
 * Latch with a Redis store that is wrong at start: unreachable, or a wrong password. Latch starts and
 * serves anyway (fail-open), and says precisely what is wrong in its log and in `/readyz` details.
 * With `failClosed`, stateful pools answer 503 ERR_STORE_UNAVAILABLE with Retry-After and `/readyz`
 * fails, until Redis comes up; then everything works without a restart. A reload that changes the
 * store is refused.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { adminCall, scrapeMetrics } from '../helpers/admin-client.js'
import type { LatchProcess } from '../helpers/latch-process.js'
import { freePort, startRedis, stopAllRedis } from '../helpers/redis-server.js'
import { asClient, replicaConfig, sessionUpstream, startReplicas } from '../helpers/redis-replicas.js'
import type { TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let upstreams: TestUpstream[]
const started: LatchProcess[] = []

beforeAll(async () => {
  upstreams = await Promise.all(['u1', 'u2'].map(sessionUpstream))
})

afterAll(async () => {
  await Promise.all(started.map((latch) => latch.stop('SIGKILL')))
  await Promise.all((upstreams ?? []).map((upstream) => upstream.stop()))
  await stopAllRedis()
})

async function start(store: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<LatchProcess> {
  const [latch] = await startReplicas(1, replicaConfig(store, upstreams), env)
  started.push(latch as LatchProcess)
  return latch as LatchProcess
}

type Details = Record<string, { ok: boolean; detail?: string }>

describe('Redis store wrong at start', () => {
  it('unreachable: starts, serves from local state, and says why in the log and /readyz', async () => {
    const port = await freePort()
    const latch = await start({ type: 'redis', url: `redis://127.0.0.1:${port}` })
    for (let i = 0; i < 4; i++) expect((await asClient(latch, '/ip', '10.0.0.1')).status).toBe(200)
    expect((await asClient(latch, '/cookie', '10.0.0.1')).status).toBe(200)
    const problem = latch.logs.find((line) => String(line.msg).includes('unreachable: connection refused'))
    expect(problem?.msg).toContain(`127.0.0.1:${port}`)
    expect(latch.logs.some((line) => String(line.msg).startsWith('no sessionSecrets configured and Redis did not answer at start'))).toBe(true)
    const ready = await adminCall(latch, 'GET', '/readyz')
    expect(ready.status).toBe(200)
    const redis = (ready.body.details as Details).redis
    expect(redis?.ok).toBe(true)
    expect(redis?.detail).toMatch(new RegExp(`^redis://127\\.0\\.0\\.1:${port}: unreachable: connection refused .*; serving from local state; retrying$`))
    const { families } = await scrapeMetrics(latch)
    expect(families.get('latch_redis_up')?.samples[0]?.value).toBe(0)
    expect(families.get('latch_redis_fallbacks_total')?.samples[0]?.value).toBeGreaterThan(0)
  })

  it('wrong password: starts, serves, and names the authentication failure', async () => {
    const redis = await startRedis({ password: 'the-right-password' })
    const latch = await start({ type: 'redis', url: `redis://127.0.0.1:${redis.port}`, password: '${REDIS_PASSWORD}' }, { REDIS_PASSWORD: 'a-wrong-password' })
    expect((await asClient(latch, '/ip', '10.0.0.2')).status).toBe(200)
    await waitFor(() => latch.logs.some((line) => String(line.msg).includes('authentication failed')), 5000, 20, 'the authentication failure in the log')
    const logged = latch.logs.find((line) => String(line.msg).includes('authentication failed'))
    expect(logged?.msg).toMatch(/authentication failed \((WRONGPASS|ERR invalid password)[^)]*\) — check store\.password \/ store\.username or the credentials in store\.url/)
    expect(JSON.stringify(latch.logs)).not.toContain('a-wrong-password')
    const ready = await adminCall(latch, 'GET', '/readyz')
    expect(ready.status).toBe(200)
    expect((ready.body.details as Details).redis?.detail).toMatch(/authentication failed/)
  })

  it('failClosed: stateful pools answer 503 ERR_STORE_UNAVAILABLE and /readyz fails until Redis is up', async () => {
    const port = await freePort()
    const latch = await start({ type: 'redis', url: `redis://127.0.0.1:${port}`, failClosed: true })
    const refused = await asClient(latch, '/ip', '10.0.0.3')
    expect(refused.status).toBe(503)
    expect(refused.headers['x-latch-error']).toBe('ERR_STORE_UNAVAILABLE')
    expect(refused.headers['retry-after']).toBe('1')
    expect(refused.json?.error).toBe('ERR_STORE_UNAVAILABLE')
    // Cookie sessions need no store on their path.
    expect((await asClient(latch, '/cookie', '10.0.0.3')).status).toBe(200)
    const notReady = await adminCall(latch, 'GET', '/readyz')
    expect(notReady.status).toBe(503)
    expect((notReady.body.details as Details).redis).toMatchObject({ ok: false })
    expect((notReady.body.details as Details).redis?.detail).toMatch(/requests that need the store get 503 \(failClosed\)/)
    // Redis comes up on that port: Latch connects by itself.
    await startRedis({ port })
    await waitFor(async () => (await adminCall(latch, 'GET', '/readyz')).status === 200, 10_000, 50, 'readiness once Redis is up')
    expect((await asClient(latch, '/ip', '10.0.0.3')).status).toBe(200)
    await waitFor(() => latch.logs.some((line) => line.msg === 'redis store connected'), 5000, 20, 'the connection in the log')
  })

  it('refuses a reload that changes the store, naming what changed (a restart applies it)', async () => {
    const redis = await startRedis()
    const latch = await start({ type: 'redis', url: redis.url })
    const file = latch.configFile as string
    const config = parse(readFileSync(file, 'utf8')) as { store: Record<string, unknown> }
    writeFileSync(file, stringify({ ...config, store: { type: 'memory' } }))
    const refused = await adminCall(latch, 'POST', '/reload')
    expect(refused.status).toBe(422)
    expect(refused.body.issues).toEqual([`${file}: store: type changed from redis to memory — the store changes only on restart`])
    writeFileSync(file, stringify({ ...config, store: { ...config.store, commandTimeout: '200ms' } }))
    expect(((await adminCall(latch, 'POST', '/reload')).body.issues as string[])[0]).toContain('store: commandTimeout changed')
    // The store in use is untouched, and an unchanged store reloads fine.
    writeFileSync(file, stringify(config))
    expect((await adminCall(latch, 'POST', '/reload')).status).toBe(200)
    expect((await asClient(latch, '/ip', '10.0.0.4')).status).toBe(200)
    expect(await redis.command('EXISTS', 'latch:b:ip:ip:10.0.0.4')).toBe(':1\r\n')
  })
})
