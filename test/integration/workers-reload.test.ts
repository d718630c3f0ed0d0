/**
 * `--workers 2` reloads through the real CLI: the supervisor validates exactly as one process does, a
 * rejected config is never recorded as applied, and a worker restarted afterwards starts on the last
 * accepted config. `/pools`, the logs and the metrics agree.
 */
import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { adminCall, scrapeMetrics } from '../helpers/admin-client.js'
import { send } from '../helpers/http-client.js'
import { startLatch, type LatchProcess, type LogLine } from '../helpers/latch-process.js'
import { samplesOf, valueOf } from '../helpers/prometheus-text.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

describe('--workers 2 reloads', () => {
  let upstreams: TestUpstream[] = []
  let latch: LatchProcess

  const config = (upstream: TestUpstream, maxEntries = 100_000): object => ({
    listen: '127.0.0.1:0',
    admin: { listen: '127.0.0.1:0' },
    shutdown: { drainDelay: '0s', drainTimeout: '3s' },
    log: { access: 'off' },
    // SIGHUP is the only trigger here, so each reload is counted once.
    reload: { watch: false },
    store: { type: 'memory', maxEntries },
    pools: [{ name: 'web', endpoints: [upstream.url] }],
    routes: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } }] } }] },
  })

  const workerLogs = (message: string): LogLine[] => latch.logs.filter((line) => line.msg === message && line.worker !== undefined)
  const servingPid = (slot: number): number => workerLogs('worker serving').filter((line) => line.worker === slot).at(-1)?.pid as number

  /** Which upstream answered each of `count` requests, each on a new connection (so both workers serve). */
  async function answeredBy(count: number): Promise<Set<string>> {
    const seen = new Set<string>()
    for (let i = 0; i < count; i++) seen.add(String((await send({ port: latch.port, path: `/r${i}` })).headers['x-upstream']))
    return seen
  }

  async function requestsPerWorker(): Promise<Map<string, number>> {
    const { families } = await scrapeMetrics(latch)
    return new Map(samplesOf(families, 'latch_worker_requests_total').map((sample) => [sample.labels.worker as string, sample.value]))
  }

  async function restartWorker(slot: number): Promise<void> {
    const victim = servingPid(slot)
    const restartsBefore = latch.logs.filter((line) => line.msg === 'worker restarted and serving').length
    process.kill(victim, 'SIGKILL')
    await waitFor(() => latch.logs.filter((line) => line.msg === 'worker restarted and serving').length > restartsBefore, 15_000, 20, `worker ${slot} restarted`)
    // The worker's own line comes through its own pipe and may trail the supervisor's.
    await waitFor(() => servingPid(slot) !== victim, 5000, 20, `the new worker ${slot} serving`)
  }

  async function poolEndpoints(): Promise<string[]> {
    const pools = (await adminCall(latch, 'GET', '/pools')).body.pools as { name: string; endpoints: { id: string }[] }[]
    return (pools.find((pool) => pool.name === 'web')?.endpoints ?? []).map((endpoint) => endpoint.id)
  }

  beforeAll(async () => {
    upstreams = await Promise.all(['a', 'b'].map((name) => startUpstream(name)))
    latch = await startLatch({ config: config(upstreams[0] as TestUpstream), args: ['--workers', '2'], timeoutMs: 15_000 })
  }, 20_000)

  afterAll(async () => {
    if (latch !== undefined && latch.child.exitCode === null) latch.child.kill('SIGKILL')
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
  })

  it('refuses a store change in the supervisor as CONFIG_INVALID, and a worker restarted afterwards serves the last accepted config', async () => {
    const [a, b] = upstreams as [TestUpstream, TestUpstream]
    // A new endpoint and a store change: the store changes only on restart, so the whole config is refused.
    writeFileSync(latch.configFile as string, stringify(config(b, 5000)))
    latch.child.kill('SIGHUP')
    const refused = await waitFor(() => latch.logs.find((line) => line.worker === undefined && line.level === 'error' && String(line.msg).includes('config rejected')), 10_000, 20, 'reload refused')
    expect(refused.code).toBe('CONFIG_INVALID')
    expect(String(refused.msg)).toContain('store: maxEntries changed')
    // The supervisor refused it: no worker was asked to apply it.
    expect(workerLogs('config reloaded')).toHaveLength(0)

    await restartWorker(1)
    const before = await requestsPerWorker()
    expect(await answeredBy(10)).toEqual(new Set(['a']))
    const after = await requestsPerWorker()
    for (const worker of ['1', '2']) expect((after.get(worker) ?? 0) - (before.get(worker) ?? 0)).toBeGreaterThan(0)
    expect(await poolEndpoints()).toEqual([`127.0.0.1:${a.port}`])
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_config_reloads_total', { result: 'failure' })).toBe(1)
    expect(valueOf(families, 'latch_config_reloads_total', { result: 'success' }) ?? 0).toBe(0)
  }, 40_000)

  it('then applies a valid reload in every worker, and a worker restarted afterwards serves it', async () => {
    const b = upstreams[1] as TestUpstream
    writeFileSync(latch.configFile as string, stringify(config(b)))
    latch.child.kill('SIGHUP')
    await waitFor(() => latch.logs.some((line) => line.msg === 'config reloaded in every worker'), 10_000, 20, 'reload applied')
    expect(await answeredBy(6)).toEqual(new Set(['b']))
    await restartWorker(2)
    expect(await answeredBy(10)).toEqual(new Set(['b']))
    // The removed endpoint may still be listed while it drains.
    expect(await poolEndpoints()).toContain(`127.0.0.1:${b.port}`)
    const { families } = await scrapeMetrics(latch)
    expect(valueOf(families, 'latch_config_reloads_total', { result: 'success' })).toBe(1)
    expect(valueOf(families, 'latch_config_reloads_total', { result: 'failure' })).toBe(1)
  }, 40_000)
})
