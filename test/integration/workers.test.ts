/**
 * `--workers 2` through the real CLI: one supervisor, two worker processes sharing the listener.
 * Every request goes on a new connection, so node:cluster's round-robin hands successive requests
 * to alternating workers; which worker served is read from `latch_worker_requests_total{worker}`.
 */
import { writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { adminCall, endpointAction, scrapeMetrics } from '../helpers/admin-client.js'
import { send, type SimpleResponse } from '../helpers/http-client.js'
import { runCli, startLatch, writeConfig, type LatchProcess, type LogLine } from '../helpers/latch-process.js'
import { samplesOf, valueOf } from '../helpers/prometheus-text.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

describe('--workers 2', () => {
  let upstreams: TestUpstream[] = []
  let latch: LatchProcess
  let sent = 0

  const config = (withFreshRoute: boolean): object => {
    const urls = upstreams.map((upstream) => upstream.url)
    const path = (prefix: string, pool: string): object => ({ path: prefix, pathType: 'Prefix', backend: { service: { name: pool } } })
    return {
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0' },
      shutdown: { drainDelay: '0s', drainTimeout: '3s' },
      log: { access: 'off' },
      trustedProxies: ['127.0.0.1/32'],
      pools: [
        { name: 'cookie', endpoints: urls, affinity: { mode: 'cookie', responseHeader: true } },
        { name: 'ip', endpoints: urls, affinity: { mode: 'client-ip', responseHeader: true } },
        ...(withFreshRoute ? [{ name: 'fresh', endpoints: [upstreams[2]?.url] }] : []),
      ],
      routes: { rules: [{ http: { paths: [path('/cookie', 'cookie'), path('/ip', 'ip'), ...(withFreshRoute ? [path('/fresh', 'fresh')] : [])] } }] },
    }
  }

  async function get(path: string, headers: Record<string, string> = {}): Promise<SimpleResponse> {
    sent++
    return send({ port: latch.port, path, headers })
  }

  async function perWorker(): Promise<Map<string, number>> {
    const { families } = await scrapeMetrics(latch)
    return new Map(samplesOf(families, 'latch_worker_requests_total').map((sample) => [sample.labels.worker as string, sample.value]))
  }

  const workerLogs = (message: string): LogLine[] => latch.logs.filter((line) => line.msg === message && line.worker !== undefined)

  beforeAll(async () => {
    upstreams = await Promise.all(['u1', 'u2', 'u3'].map((name) => startUpstream(name)))
    latch = await startLatch({ config: config(false), args: ['--workers', '2'], timeoutMs: 15_000 })
  }, 20_000)

  afterAll(async () => {
    if (latch !== undefined && latch.child.exitCode === null) latch.child.kill('SIGKILL')
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
  })

  it('serves from both workers, and /metrics reports the sum across them', async () => {
    expect(workerLogs('worker serving').map((line) => line.worker).sort()).toEqual([1, 2])
    for (let i = 0; i < 10; i++) expect((await get('/ip', { 'x-forwarded-for': `10.1.0.${i}` })).status).toBe(200)
    const counts = await perWorker()
    expect([...counts.keys()].sort()).toEqual(['1', '2'])
    expect(counts.get('1')).toBeGreaterThan(0)
    expect(counts.get('2')).toBeGreaterThan(0)
    const { families } = await scrapeMetrics(latch)
    const total = samplesOf(families, 'latch_requests_total').reduce((sum, sample) => sum + sample.value, 0)
    expect(total).toBe(sent)
    expect((counts.get('1') ?? 0) + (counts.get('2') ?? 0)).toBe(sent)
    expect(valueOf(families, 'latch_workers', { state: 'serving' })).toBe(2)
    // The shared memory store lives in the supervisor, which reports its evictions itself.
    expect(valueOf(families, 'latch_store_evictions_total', { kind: 'binding' })).toBe(0)
  })

  it('keeps cookie sessions on one endpoint whichever worker serves (one shared secret)', async () => {
    const first = await get('/cookie')
    const cookie = (first.headers['set-cookie']?.[0] ?? '').split(';')[0] as string
    expect(cookie).toMatch(/^latch=/)
    const before = await perWorker()
    const seen = new Set<string>()
    for (let i = 0; i < 12; i++) {
      const response = await get('/cookie', { cookie })
      expect(response.headers['x-latch-affinity']).toBe('hit')
      seen.add(response.headers['x-upstream'] as string)
    }
    expect([...seen]).toEqual([first.headers['x-upstream']])
    const after = await perWorker()
    for (const worker of ['1', '2']) expect((after.get(worker) ?? 0) - (before.get(worker) ?? 0)).toBeGreaterThan(0)
  })

  it('keeps client-ip bindings across workers (the supervisor holds them)', async () => {
    const bound = new Map<string, Set<string>>()
    for (let round = 0; round < 3; round++) {
      for (let client = 0; client < 13; client++) {
        const ip = `10.2.0.${client}`
        const response = await get('/ip', { 'x-forwarded-for': ip })
        expect(response.status).toBe(200)
        if (!bound.has(ip)) bound.set(ip, new Set())
        bound.get(ip)?.add(response.headers['x-upstream'] as string)
      }
    }
    // An odd number of clients: each client alternates between the workers from round to round, so
    // per-worker binding tables would split most of them.
    for (const [ip, endpoints] of bound) expect([ip, endpoints.size]).toEqual([ip, 1])
    expect(new Set([...bound.values()].map((endpoints) => [...endpoints][0])).size).toBeGreaterThan(1)
  })

  it('applies SIGHUP reloads in every worker, and rejects an invalid config in all of them', async () => {
    expect((await get('/fresh')).status).toBe(404)
    writeFileSync(latch.configFile as string, stringify(config(true)))
    latch.child.kill('SIGHUP')
    await waitFor(() => latch.logs.some((line) => line.msg === 'config reloaded in every worker'), 10_000)
    // Each process writes its own lines: the workers' may reach the pipe after the supervisor's.
    await waitFor(() => workerLogs('config reloaded').length === 2, 2000)
    expect(workerLogs('config reloaded').map((line) => line.worker).sort()).toEqual([1, 2])
    for (let i = 0; i < 6; i++) {
      const response = await get('/fresh')
      expect([response.status, response.headers['x-upstream']]).toEqual([200, 'u3'])
    }
    writeFileSync(latch.configFile as string, 'pools: [\n')
    latch.child.kill('SIGHUP')
    await waitFor(() => latch.logs.some((line) => line.level === 'error' && String(line.msg).startsWith('config rejected')), 10_000)
    expect(workerLogs('config reloaded')).toHaveLength(2)
    for (let i = 0; i < 4; i++) expect((await get('/fresh')).status).toBe(200)
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_config_reloads_total', { result: 'success' })).toBe(1)
    expect(valueOf(families, 'latch_config_reloads_total', { result: 'failure' })).toBe(1)
    writeFileSync(latch.configFile as string, stringify(config(true)))
  })

  it('answers the admin API for all workers: merged /pools, actions applied by every worker, /readyz', async () => {
    const u1 = `127.0.0.1:${upstreams[0]?.port}`
    const reply = await endpointAction(latch, 'ip', u1, 'maintenance')
    expect(reply.body).toMatchObject({ pool: 'ip', action: 'maintenance', endpoint: { id: u1, adminState: 'maintenance', state: 'maintenance' } })
    // New clients never reach u1 again, whichever worker serves them.
    for (let client = 0; client < 9; client++) expect((await get('/ip', { 'x-forwarded-for': `10.3.0.${client}` })).headers['x-upstream']).not.toBe('u1')
    const pools = (await adminCall(latch, 'GET', '/pools')).body.pools as { name: string; endpoints: { id: string; state: string; total: number; states?: unknown }[] }[]
    const ip = pools.find((pool) => pool.name === 'ip')
    const endpoint = ip?.endpoints.find((candidate) => candidate.id === u1)
    expect(endpoint).toMatchObject({ state: 'maintenance' })
    expect(endpoint?.states).toBeUndefined()
    const { families } = await scrapeMetrics(latch)
    expect(ip?.endpoints.reduce((sum, candidate) => sum + candidate.total, 0)).toBe(samplesOf(families, 'latch_requests_total', { pool: 'ip' }).reduce((sum, sample) => sum + sample.value, 0))
    expect(valueOf(families, 'latch_endpoint_state', { pool: 'ip', endpoint: u1, state: 'maintenance' })).toBe(1)
    const ready = await adminCall(latch, 'GET', '/readyz')
    expect(ready).toMatchObject({ status: 200, body: { ready: true, details: { workers: { ok: true, detail: '2 of 2 workers ready' } } } })
    const unknown = await adminCall(latch, 'POST', '/pools/ip/endpoints/127.0.0.1:1/drain')
    expect(unknown).toMatchObject({ status: 404, body: { error: 'ERR_ADMIN_UNKNOWN_ENDPOINT' } })
  })

  it('replaces a worker killed with SIGKILL; traffic and sessions continue', async () => {
    const cookieResponse = await get('/cookie')
    const cookie = (cookieResponse.headers['set-cookie']?.[0] ?? '').split(';')[0] as string
    const victim = workerLogs('worker serving').find((line) => line.worker === 1)?.pid as number
    process.kill(victim, 'SIGKILL')
    await waitFor(() => latch.logs.some((line) => line.msg === 'worker exited unexpectedly: restarting it'), 5000)
    // The surviving worker serves everything meanwhile.
    for (let i = 0; i < 6; i++) expect((await get('/cookie', { cookie })).headers['x-upstream']).toBe(cookieResponse.headers['x-upstream'])
    await waitFor(() => latch.logs.some((line) => line.msg === 'worker restarted and serving'), 10_000)
    // The worker's own line comes through its own pipe and may trail the supervisor's.
    const restarted = (await waitFor(() => workerLogs('worker serving').find((line) => line.worker === 1 && line.pid !== victim), 5000, 20, 'the new worker 1 serving')).pid
    expect(restarted).not.toBe(victim)
    const before = await perWorker()
    for (let i = 0; i < 8; i++) {
      const response = await get('/cookie', { cookie })
      expect([response.status, response.headers['x-latch-affinity'], response.headers['x-upstream']]).toEqual([200, 'hit', cookieResponse.headers['x-upstream']])
    }
    const after = await perWorker()
    expect((after.get('1') ?? 0) - (before.get('1') ?? 0)).toBeGreaterThan(0)
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_worker_restarts_total')).toBe(1)
    // The restarted worker replayed the operator's maintenance action.
    expect(valueOf(families, 'latch_endpoint_state', { pool: 'ip', endpoint: `127.0.0.1:${upstreams[0]?.port}`, state: 'healthy' })).toBe(0)
    expect(valueOf(families, 'latch_workers', { state: 'serving' })).toBe(2)
  })

  it('exits 0 on SIGTERM after every worker drained', async () => {
    expect(await latch.stop('SIGTERM')).toBe(0)
    expect(latch.logs.filter((line) => line.msg === 'worker exited')).toHaveLength(2)
    expect(latch.logs.at(-1)?.msg).toBe('latch stopped')
  })
})

describe('--workers 2 failures', () => {
  let upstream: TestUpstream
  const started: LatchProcess[] = []

  async function start(config: object): Promise<LatchProcess> {
    const latch = await startLatch({ config: { listen: '127.0.0.1:0', log: { access: 'off' }, pools: [{ name: 'web', endpoints: [upstream.url] }], ...config }, args: ['--workers', '2'], timeoutMs: 15_000 })
    started.push(latch)
    return latch
  }

  beforeAll(async () => {
    upstream = await startUpstream('u1')
  })

  // Hooks run even after a test timed out (a `finally` in the test might not): no supervisor is left behind.
  afterAll(async () => {
    for (const latch of started) if (latch.child.exitCode === null) latch.child.kill('SIGKILL')
    await upstream.stop()
  })

  it('exits 1 when a worker cannot start (port taken), naming the cause', async () => {
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as AddressInfo).port
    try {
      const file = writeConfig({ listen: `127.0.0.1:${port}`, admin: { listen: false }, pools: [{ name: 'web', endpoints: [upstream.url] }] })
      const result = await runCli(['--config', file, '--workers', '2'])
      expect(result.code).toBe(1)
      expect(result.stdout).toContain('LISTEN_FAILED')
      expect(result.stdout).toMatch(/"code":"WORKER_FAILED".*exited during start-up/)
    } finally {
      blocker.close()
    }
  })

  it('a second SIGTERM makes every worker exit at once', async () => {
    const running = await start({ shutdown: { drainDelay: '10s', drainTimeout: '10s' } })
    running.child.kill('SIGTERM')
    await waitFor(() => running.logs.filter((line) => line.msg === 'draining: readiness failed, still accepting').length === 2, 5000)
    const started = Date.now()
    expect(await running.stop('SIGTERM')).toBe(1)
    expect(Date.now() - started).toBeLessThan(3000)
    expect(running.logs.filter((line) => line.msg === 'worker exited')).toHaveLength(2)
  })

  it('restarts a crashing worker with backoff, then gives up on a crash loop with a clear error', async () => {
    const running = await start({})
    const serving = (): LogLine[] => running.logs.filter((line) => line.msg === 'worker serving' && line.worker === 2)
    for (let crash = 1; crash <= 5; crash++) {
      const pid = (await waitFor(() => serving()[crash - 1], 10_000, 20, `worker 2 serving (${crash})`)).pid as number
      process.kill(pid, 'SIGKILL')
      if (crash === 5) break
      // Once the supervisor saw the exit, it hands new connections to the other worker only.
      await waitFor(() => running.logs.filter((line) => line.msg === 'worker exited unexpectedly: restarting it').length === crash, 5000)
      expect((await send({ port: running.port, path: '/' })).status).toBe(200)
    }
    expect(await running.exited).toBe(1)
    const fatal = running.logs.find((line) => line.level === 'fatal')
    expect(fatal).toMatchObject({ code: 'WORKER_FAILED' })
    expect(fatal?.msg).toMatch(/^worker 2 crashed 5 times within 60 s \(last: signal SIGKILL\) — giving up/)
    const restarts = running.logs.filter((line) => line.msg === 'worker exited unexpectedly: restarting it').map((line) => line.restartInMs)
    expect(restarts).toEqual([100, 200, 400, 800])
  }, 30_000)
})
