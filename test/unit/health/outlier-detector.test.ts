import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { PassiveFailureKind } from '../../../src/config/health-schema.js'
import { OutlierDetector } from '../../../src/health/outlier-detector.js'
import { Endpoint } from '../../../src/upstream/endpoint.js'
import { poolConfig } from '../upstream/pool-fixtures.js'

/** A detector over `count` real endpoints (never connected), recording what it reports. */
function setup(passiveHealth: Record<string, unknown>, count = 4) {
  const config = poolConfig({ passiveHealth: { consecutiveFailures: 3, baseEjectionTime: '1s', maxEjectionTime: '10s', maxEjectedPercent: 100, ...passiveHealth } })
  const endpoints = Array.from({ length: count }, (_, i) => new Endpoint({ url: `http://127.0.0.1:${i + 1}`, weight: 1 }, config, 'static', false))
  const ejected: { id: string; durationMs: number }[] = []
  const skipped: string[] = []
  const detector = new OutlierDetector(config.passiveHealth, () => endpoints, {
    ejected: (endpoint, durationMs) => ejected.push({ id: endpoint.id, durationMs }),
    ejectionSkipped: (endpoint) => skipped.push(endpoint.id),
  })
  const fail = (endpoint: Endpoint, times: number, kind: PassiveFailureKind = '5xx'): void => {
    for (let i = 0; i < times; i++) detector.recordFailure(endpoint, kind)
  }
  return { detector, endpoints: endpoints as [Endpoint, Endpoint, Endpoint, Endpoint], ejected, skipped, fail }
}

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('OutlierDetector', () => {
  it('ejects an endpoint after consecutiveFailures failures, for baseEjectionTime', () => {
    const { endpoints: [a], ejected, fail } = setup({})
    fail(a, 2)
    expect(a.available).toBe(true)
    fail(a, 1)
    expect(ejected).toEqual([{ id: a.id, durationMs: 1000 }])
    expect(a.state).toBe('unhealthy')
    expect(a.available).toBe(false)
    expect(a.ejectedUntil).toBe(Date.now() + 1000)
    expect(a.ejections).toBe(1)
    vi.advanceTimersByTime(999)
    expect(a.available).toBe(false)
    vi.advanceTimersByTime(1)
    expect(a.available).toBe(true)
    expect(a.ejectedUntil).toBe(0)
  })

  it('counts consecutive failures only: a success starts the count again', () => {
    const { detector, endpoints: [a], ejected, fail } = setup({})
    fail(a, 2)
    detector.recordSuccess(a)
    fail(a, 2)
    expect(ejected).toEqual([])
    fail(a, 1)
    expect(ejected).toHaveLength(1)
  })

  it('counts only the configured kinds of failure, and nothing when disabled', () => {
    const { endpoints: [a, b], ejected, fail } = setup({ failures: ['connect', 'timeout'] })
    fail(a, 5, '5xx')
    fail(a, 5, 'reset')
    expect(ejected).toEqual([])
    expect(a.failuresTotal).toBe(10)
    fail(b, 3, 'timeout')
    expect(ejected.map((event) => event.id)).toEqual([b.id])
    const off = setup({ enabled: false })
    off.fail(off.endpoints[0], 50, 'connect')
    expect(off.ejected).toEqual([])
  })

  it('makes each repeated ejection one base time longer, up to maxEjectionTime', () => {
    const { endpoints: [a], ejected, fail } = setup({ baseEjectionTime: '1s', maxEjectionTime: '2500ms' })
    for (let round = 0; round < 4; round++) {
      fail(a, 3)
      vi.advanceTimersByTime(ejected.at(-1)?.durationMs ?? 0)
      expect(a.available).toBe(true)
    }
    expect(ejected.map((event) => event.durationMs)).toEqual([1000, 2000, 2500, 2500])
    expect(a.ejections).toBe(4)
  })

  it('starts the ejection streak again once the endpoint stayed in for maxEjectionTime', () => {
    const { endpoints: [a], ejected, fail } = setup({ baseEjectionTime: '1s', maxEjectionTime: '5s' })
    fail(a, 3)
    vi.advanceTimersByTime(1000)
    vi.advanceTimersByTime(5001)
    fail(a, 3)
    expect(ejected.map((event) => event.durationMs)).toEqual([1000, 1000])
  })

  it('never ejects more than maxEjectedPercent of the pool, and says so once per failing streak', () => {
    const { endpoints: [a, b, c], ejected, skipped, fail } = setup({ maxEjectedPercent: 50 }, 3)
    fail(a, 3)
    fail(b, 3)
    fail(b, 20)
    expect(ejected.map((event) => event.id)).toEqual([a.id])
    expect(b.available).toBe(true)
    expect(skipped).toEqual([b.id])
    // Once a is back, b's next failure ejects it.
    vi.advanceTimersByTime(1000)
    fail(b, 1)
    expect(ejected.map((event) => event.id)).toEqual([a.id, b.id])
    fail(c, 3)
    expect(skipped).toEqual([b.id, c.id])
  })

  it('cancels readmissions on stop', () => {
    const { detector, endpoints: [a], fail } = setup({})
    fail(a, 3)
    detector.stop()
    expect(vi.getTimerCount()).toBe(0)
  })
})
