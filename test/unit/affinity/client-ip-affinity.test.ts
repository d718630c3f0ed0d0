import { afterEach, describe, expect, it, vi } from 'vitest'
import { affinityPool, closeAll, endpointUrls, serveNow } from './affinity-fixtures.js'

afterEach(async () => {
  vi.useRealTimers()
  await closeAll()
})

const ip = (index: number): string => `10.${Math.floor(index / 250)}.${index % 250}.1`

describe('ClientIpAffinity', () => {
  it('adding endpoints moves no live binding; least-sessions sends new clients to the new endpoints', () => {
    const urls = endpointUrls(8)
    const { pool } = affinityPool({ endpoints: urls.slice(0, 5), balance: 'least-sessions', affinity: { mode: 'client-ip' } })
    const home = Array.from({ length: 1000 }, (_, index) => serveNow(pool, { clientIp: ip(index) }).endpoint?.id)
    pool.setEndpoints('static', urls.map((url) => ({ url, weight: 1 })))
    expect(pool.usableEndpoints).toHaveLength(8)
    for (let index = 0; index < 1000; index++) {
      const served = serveNow(pool, { clientIp: ip(index) })
      expect(served.outcome).toBe('hit')
      expect(served.endpoint?.id).toBe(home[index])
    }
    const added = new Set(urls.slice(5).map((url) => new URL(url).host))
    const newcomers = Array.from({ length: 300 }, (_, index) => serveNow(pool, { clientIp: ip(1000 + index) }).endpoint?.id as string)
    expect(newcomers.filter((id) => added.has(id)).length).toBe(300)
  })

  it('the sliding timeout expires an idle binding, not an active one', () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(1_800_000_000_000)
    const { pool } = affinityPool({ endpoints: endpointUrls(5), affinity: { mode: 'client-ip', clientIp: { timeout: '1s' } } })
    const active = serveNow(pool, { clientIp: '10.0.0.1' })
    const idle = serveNow(pool, { clientIp: '10.0.0.2' })
    expect([active.outcome, idle.outcome]).toEqual(['new', 'new'])
    for (let step = 0; step < 10; step++) {
      vi.advanceTimersByTime(300)
      const again = serveNow(pool, { clientIp: '10.0.0.1' })
      expect(again.outcome, `active client at ${(step + 1) * 300} ms`).toBe('hit')
      expect(again.endpoint).toBe(active.endpoint)
    }
    // 3 s without a request: the idle client's binding is gone (a new pick, counted as new).
    expect(serveNow(pool, { clientIp: '10.0.0.2' }).outcome).toBe('new')
  })

  it('groups clients by the configured prefix (/24 sticks together)', () => {
    const { pool } = affinityPool({ endpoints: endpointUrls(5), affinity: { mode: 'client-ip', clientIp: { ipv4Prefix: 24, ipv6Prefix: 64 } } })
    const first = serveNow(pool, { clientIp: '192.0.2.10' })
    expect(serveNow(pool, { clientIp: '192.0.2.200' }).endpoint).toBe(first.endpoint)
    expect(serveNow(pool, { clientIp: '192.0.2.200' }).outcome).toBe('hit')
    const v6 = serveNow(pool, { clientIp: '2001:db8:1:2::1' })
    expect(serveNow(pool, { clientIp: '2001:db8:1:2:ffff::9' }).endpoint).toBe(v6.endpoint)
    expect(serveNow(pool, { clientIp: '2001:db8:1:3::1' }).outcome).toBe('new')
  })

  it('a binding to an endpoint removed from the pool is rebound once (boundGone), then hits', async () => {
    const urls = endpointUrls(5)
    const { pool } = affinityPool({ endpoints: urls, drainTimeout: '10ms', affinity: { mode: 'client-ip' } })
    const clients = Array.from({ length: 50 }, (_, index) => ({ ip: ip(index), home: serveNow(pool, { clientIp: ip(index) }).endpoint?.id }))
    const removed = new URL(urls[0] as string).host
    pool.setEndpoints('static', urls.slice(1).map((url) => ({ url, weight: 1 })))
    await new Promise((resolve) => setTimeout(resolve, 50))
    for (const client of clients) {
      const served = serveNow(pool, { clientIp: client.ip })
      if (client.home === removed) {
        expect(served.outcome).toBe('rebound')
        expect(served.endpoint?.id).not.toBe(removed)
        const next = serveNow(pool, { clientIp: client.ip })
        expect([next.outcome, next.endpoint?.id]).toEqual(["hit", served.endpoint?.id])
      } else {
        expect(served.outcome).toBe("hit")
        expect(served.endpoint?.id).toBe(client.home)
      }
    }
  })
})
