import { afterEach, describe, expect, it } from 'vitest'
import { ActiveHealthChecker, nextProbeDelay } from '../../../src/health/active-checker.js'
import type { ActiveHealthCheckConfig } from '../../../src/config/schema.js'
import type { Pool } from 'undici'
import { Endpoint, type EndpointState, type ProbeResult } from '../../../src/upstream/endpoint.js'
import { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { waitFor } from '../../helpers/wait.js'
import { poolConfig, RecordingObserver } from '../upstream/pool-fixtures.js'
import { startProbeServer, type ProbeServer } from './probe-server.js'

const NO_JITTER = (): number => 0.5

interface Flip {
  readonly to: EndpointState
  readonly reason: string
  readonly at: number
}

/** A static endpoint watched by its own checker, its flips recorded. */
function watched(server: ProbeServer, check: Record<string, unknown>, random = NO_JITTER) {
  const config = poolConfig({ endpoints: [server.url], healthCheck: { path: '/healthz', interval: '50ms', timeout: '500ms', ...check } })
  const endpoint = new Endpoint({ url: server.url, weight: 1 }, config, 'static', false)
  const flips: Flip[] = []
  endpoint.onStateChange((_endpoint, _from, to, reason) => flips.push({ to, reason, at: Date.now() }))
  const checker = new ActiveHealthChecker(config.healthCheck as ActiveHealthCheckConfig, { random })
  cleanups.push(async () => {
    checker.stop()
    await endpoint.close()
  })
  checker.watch(endpoint)
  return { endpoint, checker, flips }
}

/** Probes the server had received when `at` came (probes of one endpoint never overlap). */
const probesBy = (server: ProbeServer, at: number, from = 0): number => server.probes.slice(from).filter((probe) => probe.at <= at).length

let cleanups: (() => Promise<void>)[] = []
const servers: ProbeServer[] = []
const serve = async (): Promise<ProbeServer> => {
  const server = await startProbeServer()
  servers.push(server)
  return server
}

afterEach(async () => {
  for (const cleanup of cleanups) await cleanup()
  cleanups = []
  await Promise.all(servers.splice(0).map((server) => server.close()))
})

describe('nextProbeDelay', () => {
  it('moves the interval by at most ±jitter, spread by the random source', () => {
    expect(nextProbeDelay(1000, 0.1, () => 0)).toBe(900)
    expect(nextProbeDelay(1000, 0.1, () => 0.5)).toBe(1000)
    expect(nextProbeDelay(1000, 0.1, () => 0.999999)).toBe(1100)
    expect(nextProbeDelay(1000, 0, () => 0.9)).toBe(1000)
    expect(nextProbeDelay(200, 1, () => 0)).toBe(0)
    for (let i = 0; i < 1000; i++) {
      const delay = nextProbeDelay(2000, 0.25)
      expect(delay).toBeGreaterThanOrEqual(1500)
      expect(delay).toBeLessThanOrEqual(2500)
    }
  })
})

describe('ActiveHealthChecker', () => {
  it('waits interval ± jitter from the start of each probe to the next', async () => {
    const server = await serve()
    // Alternating extremes of the jitter: delays of 30 ms and 90 ms for interval 60 ms, jitter 0.5.
    let call = 0
    const { endpoint } = watched(server, { interval: '60ms', jitter: 0.5 }, () => call++ % 2)
    // Each result carries the time its probe started; collect them as the checker records them.
    const starts: number[] = []
    Object.defineProperty(endpoint, 'lastProbe', { set: (result: ProbeResult) => starts.push(result.at), get: () => undefined })
    await waitFor(() => starts.length >= 7, 5000, 10, '7 probes')
    const gaps = starts.slice(1).map((start, i) => start - (starts[i] as number))
    // Timers never fire early beyond clock rounding: a timer may fire about 1 ms early and each start
    // time is a whole-millisecond wall-clock reading, so allow 3 ms; without jitter every gap would be 60 ms.
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual(i % 2 === 0 ? 27 : 87))
  })

  it('keeps a static endpoint usable until unhealthyThreshold consecutive probes failed', async () => {
    const server = await serve()
    server.answer = () => ({ status: 503 })
    const { endpoint, flips } = watched(server, { unhealthyThreshold: 3 })
    expect(endpoint.available).toBe(true)
    expect(endpoint.checkState).toBe('unknown')
    const flip = await waitFor(() => flips[0], 5000, 10, 'unhealthy')
    expect(flip).toMatchObject({ to: 'unhealthy', reason: 'health check: 3 consecutive failures (status 503)' })
    expect(probesBy(server, flip.at)).toBe(3)
    expect(endpoint.checkState).toBe('unhealthy')
    expect(endpoint.lastProbe).toMatchObject({ ok: false, status: 503, error: 'status 503' })
  })

  it('brings an unhealthy endpoint back after healthyThreshold consecutive passes', async () => {
    const server = await serve()
    server.answer = () => ({ status: 500 })
    const { endpoint, flips } = watched(server, { unhealthyThreshold: 1, healthyThreshold: 3 })
    await waitFor(() => endpoint.checkState === 'unhealthy', 5000, 10, 'unhealthy')
    const switchedAt = server.probes.length
    server.answer = () => ({ status: 200 })
    const back = await waitFor(() => flips.find((flip) => flip.to === 'healthy'), 5000, 10, 'healthy again')
    expect(back.reason).toBe('health check: 3 consecutive passes')
    expect(probesBy(server, back.at, switchedAt)).toBe(3)
    expect(endpoint.lastProbe).toMatchObject({ ok: true, status: 200 })
  })

  it('counts consecutive results only: a pass between failures starts the count again', async () => {
    const server = await serve()
    const script = [503, 503, 200, 503, 503, 200, 503, 503, 503]
    server.answer = (index) => ({ status: script[index] ?? 503 })
    const { flips } = watched(server, { unhealthyThreshold: 3 })
    const flip = await waitFor(() => flips[0], 5000, 10, 'unhealthy')
    expect(probesBy(server, flip.at)).toBe(9)
  })

  it('treats a hanging, refusing or resetting endpoint as failing', async () => {
    const hanging = await serve()
    hanging.answer = () => 'hang'
    const resetting = await serve()
    resetting.answer = () => 'reset'
    const refusing = await serve()
    await refusing.close()
    const watches = [hanging, resetting, refusing].map((server) => watched(server, { unhealthyThreshold: 2, timeout: '300ms' }))
    await waitFor(() => watches.every(({ endpoint }) => endpoint.checkState === 'unhealthy'), 5000, 10, 'all unhealthy')
    expect(watches.map(({ flips }) => flips[0]?.reason)).toEqual([
      'health check: 2 consecutive failures (no complete answer within 300 ms)',
      expect.stringMatching(/^health check: 2 consecutive failures \((UND_ERR_SOCKET|ECONNRESET) /),
      expect.stringMatching(/^health check: 2 consecutive failures \(ECONNREFUSED /),
    ])
  })

  it('never uses the endpoint\'s own connections or request slots', async () => {
    const server = await serve()
    const { endpoint } = watched(server, {})
    await waitFor(() => server.probes.length >= 3, 5000, 10, '3 probes')
    expect(endpoint.inflight).toBe(0)
    expect(endpoint.total).toBe(0)
    expect((endpoint.dispatcher as Pool).stats.connected).toBe(0)
  })

  it('cancels the probe in flight and probes no more after unwatch', async () => {
    const server = await serve()
    server.answer = () => 'hang'
    const { endpoint, checker } = watched(server, { interval: '30ms', timeout: '10s' })
    await waitFor(() => server.probes.length === 1, 5000, 10, 'first probe')
    checker.unwatch(endpoint)
    await waitFor(() => server.probes[0]?.closed, 2000, 10, 'probe connection closed')
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(server.probes).toHaveLength(1)
    expect(endpoint.lastProbe).toBeUndefined()
  })

  it('cancels every probe on stop', async () => {
    const server = await serve()
    server.answer = () => 'hang'
    const { checker } = watched(server, { timeout: '10s' })
    const other = watched(server, { timeout: '10s' })
    await waitFor(() => server.probes.length === 2, 5000, 10, 'two probes')
    checker.stop()
    other.checker.stop()
    await waitFor(() => server.probes.every((probe) => probe.closed), 2000, 10, 'probe connections closed')
  })
})

describe('ActiveHealthChecker in a pool', () => {
  function poolWith(check: Record<string, unknown>, drainTimeout = '30s') {
    const observer = new RecordingObserver()
    const config = poolConfig({ drainTimeout, healthCheck: { path: '/healthz', interval: '50ms', timeout: '500ms', ...check } })
    const pool = new UpstreamPool(config, observer, { watcher: (created) => new ActiveHealthChecker(created.config.healthCheck as ActiveHealthCheckConfig, { random: NO_JITTER }) })
    cleanups.push(() => pool.close())
    return { pool, observer }
  }

  it('keeps an endpoint added later out of rotation until its first probe passes', async () => {
    const server = await serve()
    const { pool } = poolWith({ interval: '10s' })
    pool.setEndpoints('discovery', [{ url: server.url, weight: 1 }])
    const endpoint = pool.endpoints[0] as Endpoint
    expect(endpoint.checkState).toBe('pending')
    expect(pool.pick(undefined)).toBeUndefined()
    await waitFor(() => pool.isUsable(endpoint), 5000, 10, 'usable')
    expect(server.probes).toHaveLength(1)
    expect(endpoint.checkState).toBe('healthy')
    expect(pool.pick(undefined)).toBe(endpoint)
  })

  it('marks an endpoint added later unhealthy on a failing first probe, then needs healthyThreshold passes', async () => {
    const server = await serve()
    server.answer = () => ({ status: 503 })
    const { pool, observer } = poolWith({ healthyThreshold: 2, unhealthyThreshold: 5 })
    pool.setEndpoints('discovery', [{ url: server.url, weight: 1 }])
    const endpoint = pool.endpoints[0] as Endpoint
    const down = await waitFor(() => observer.of('state')[0], 5000, 10, 'unhealthy')
    expect(down).toMatchObject({ to: 'unhealthy', reason: 'health check: first probe failed (status 503)' })
    expect(probesBy(server, down.at)).toBe(1)
    expect(pool.pick(undefined)).toBe(endpoint) // panic mode: the only endpoint is better than none
    const switchedAt = server.probes.length
    server.answer = () => ({ status: 200 })
    const up = await waitFor(() => observer.of('state').find((event) => event.to === 'healthy'), 5000, 10, 'healthy')
    expect(probesBy(server, up.at, switchedAt)).toBe(2)
    expect(pool.isUsable(endpoint)).toBe(true)
  })

  it('stops probing an endpoint once its removal drain is over', async () => {
    const server = await serve()
    const { pool, observer } = poolWith({ interval: '30ms' }, '100ms')
    pool.setEndpoints('discovery', [{ url: server.url, weight: 1 }])
    await waitFor(() => server.probes.length >= 2, 5000, 10, 'probes')
    pool.setEndpoints('discovery', [])
    expect(pool.endpoints[0]?.state).toBe('draining')
    await waitFor(() => observer.of('removed').length === 1, 5000, 10, 'removed')
    const probed = server.probes.length
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(server.probes.length).toBe(probed)
    expect(pool.endpoints).toHaveLength(0)
  })
})
