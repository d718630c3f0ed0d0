import { afterEach, describe, expect, it } from 'vitest'
import { StallDetector } from '../../../src/health/stall-detector.js'
import { Endpoint } from '../../../src/upstream/endpoint.js'
import { poolConfig } from '../upstream/pool-fixtures.js'

const detectors: StallDetector[] = []
afterEach(() => {
  for (const detector of detectors.splice(0)) detector.stop()
})

/** A detector (driven by hand through check(now)) over `count` real endpoints, never connected. */
function setup(passiveHealth: Record<string, unknown> = {}, count = 3) {
  const config = poolConfig({ passiveHealth: { stallTimeout: '2s', ...passiveHealth } })
  const endpoints = Array.from({ length: count }, (_, i) => new Endpoint({ url: `http://127.0.0.1:${i + 1}`, weight: 1 }, config, 'static', false))
  const changes: { id: string; from: string; to: string; reason: string }[] = []
  for (const endpoint of endpoints) endpoint.onStateChange((changed, from, to, reason) => changes.push({ id: changed.id, from, to, reason }))
  const detector = new StallDetector(config.passiveHealth, () => endpoints)
  detectors.push(detector)
  detector.check(0)
  return { detector, endpoints: endpoints as [Endpoint, Endpoint, Endpoint], changes }
}

describe('StallDetector', () => {
  it('stalls an endpoint with requests waiting and no response for stallTimeout, and only then', () => {
    const { detector, endpoints: [a, b], changes } = setup()
    a.awaiting = 2
    b.awaiting = 1
    detector.check(1000)
    b.responded() // b answers something: not stalled
    detector.check(1999)
    expect(a.state).toBe('healthy')
    detector.check(2000)
    expect(a.state).toBe('stalled')
    expect(a.available).toBe(false)
    expect(a.stalls).toBe(1)
    expect(b.state).toBe('healthy')
    expect(changes).toEqual([{ id: a.id, from: 'healthy', to: 'stalled', reason: 'passive health: no response for 2000 ms while 2 requests wait' }])
  })

  it('counts the quiet time from when requests started waiting, not from the last answer', () => {
    const { detector, endpoints: [a] } = setup()
    detector.check(10_000) // idle for 10 s: nothing waits, nothing is owed
    a.awaiting = 1
    detector.check(11_000)
    expect(a.state).toBe('healthy')
    detector.check(12_000)
    expect(a.state).toBe('stalled')
  })

  it('ends a stall on the first response head, or once nothing waits on it any more', () => {
    const { detector, endpoints: [a, b] } = setup()
    a.awaiting = 1
    b.awaiting = 1
    detector.check(2000)
    expect([a.state, b.state]).toEqual(['stalled', 'healthy'])
    a.responded()
    expect(a.state).toBe('healthy')
    detector.check(4000)
    expect(b.state).toBe('stalled')
    b.awaiting = 0 // its requests timed out or their clients left
    detector.check(4250)
    expect(b.state).toBe('healthy')
    expect(b.stalls).toBe(1)
  })

  it('stalls and ejections together stay within maxEjectedPercent; a lone endpoint is never stalled', () => {
    const { detector, endpoints } = setup({ maxEjectedPercent: 50 })
    for (const endpoint of endpoints) endpoint.awaiting = 1
    detector.check(2000)
    expect(endpoints.map((endpoint) => endpoint.state)).toEqual(['stalled', 'healthy', 'healthy'])
    const lone = setup({}, 1)
    lone.endpoints[0].awaiting = 3
    lone.detector.check(60_000)
    expect(lone.endpoints[0].state).toBe('healthy')
  })

  it('does nothing with stallTimeout 0 or passive health disabled', () => {
    for (const passiveHealth of [{ stallTimeout: 0 }, { enabled: false }]) {
      const { endpoints: [a] } = setup(passiveHealth)
      a.awaiting = 1
      expect(a.state).toBe('healthy')
    }
  })
})
