/**
 * Cookie and header tokens: lifetimes enforced by Latch (idleTimeout sliding, re-issued only past
 * half of it; maxAge absolute from the first binding), session identity kept across refreshes and
 * rebinds, and live-session counts that never reach zero while a token can still come back.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { MemoryAffinityStore } from '../../../src/stores/memory-store.js'
import type { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { affinityPool, affinityRequest, closeAll, endpointUrls, headerOf, serveNow, setCookieOf, type Served, affinityOf } from './affinity-fixtures.js'

afterEach(async () => {
  vi.useRealTimers()
  await closeAll()
})

/** A client that keeps the affinity cookie it is given. */
function cookieClient(pool: UpstreamPool): { visit: () => Served; cookie: () => string | undefined } {
  let cookie: string | undefined
  return {
    visit() {
      const served = serveNow(pool, cookie === undefined ? {} : { cookie })
      cookie = setCookieOf(served.headers) ?? cookie
      return served
    },
    cookie: () => cookie,
  }
}

function fakeClock(start: number): void {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(start)
}

const total = (store: MemoryAffinityStore, scope: string): number => [...store.sessionCounts(scope).values()].reduce((sum, count) => sum + count, 0)

describe('token lifetimes', () => {
  it('idleTimeout slides: re-issued only past half of it (same session), expired after it', () => {
    fakeClock(1_800_000_000_000)
    const { pool, store } = affinityPool({ endpoints: endpointUrls(3), affinity: { mode: 'cookie', cookie: { idleTimeout: '10s' } } })
    const client = cookieClient(pool)
    const first = client.visit()
    expect(first.outcome).toBe('new')
    expect(headerOf(first.headers, 'set-cookie')).toMatch(/; Max-Age=10; Path=\/; HttpOnly; SameSite=Lax$/)
    vi.advanceTimersByTime(4000)
    expect(client.visit()).toMatchObject({ outcome: 'hit', headers: [] })
    vi.advanceTimersByTime(2000)
    const refreshed = client.visit()
    expect(refreshed.outcome).toBe('hit')
    expect(setCookieOf(refreshed.headers)).toBeDefined()
    expect(refreshed.endpoint).toBe(first.endpoint)
    // 9 s after the refresh (15 s after the first binding): still valid.
    vi.advanceTimersByTime(9000)
    expect(client.visit().outcome).toBe('hit')
    expect(total(store, 'web:cookie')).toBe(1)
    vi.advanceTimersByTime(12_000)
    const expired = client.visit()
    expect(expired.outcome).toBe('expired')
    expect(setCookieOf(expired.headers)).toBeDefined()
  })

  it('maxAge is absolute from the first binding, refreshes do not extend it; Max-Age counts down', () => {
    fakeClock(1_800_000_000_000)
    const { pool } = affinityPool({ endpoints: endpointUrls(3), affinity: { mode: 'cookie', cookie: { maxAge: '20s', idleTimeout: '8s' } } })
    const client = cookieClient(pool)
    expect(headerOf(client.visit().headers, 'set-cookie')).toContain('Max-Age=8')
    const outcomes: (string | undefined)[] = []
    for (let step = 1; step <= 5; step++) {
      vi.advanceTimersByTime(5000)
      const served = client.visit()
      outcomes.push(served.outcome)
      if (step === 3) expect(headerOf(served.headers, 'set-cookie')).toContain('Max-Age=5')
    }
    // 5, 10, 15, 20 s: hits (refreshed past 4 s of idle); 25 s: past maxAge.
    expect(outcomes).toEqual(['hit', 'hit', 'hit', 'hit', 'expired'])
  })

  it('without maxAge or idleTimeout the cookie is a browser-session cookie (no Max-Age, no Expires), never re-issued', () => {
    fakeClock(1_800_000_000_000)
    const { pool } = affinityPool({ endpoints: endpointUrls(3), affinity: { mode: 'cookie' } })
    const client = cookieClient(pool)
    const line = headerOf(client.visit().headers, 'set-cookie') as string
    expect(line).not.toMatch(/Max-Age|Expires/i)
    vi.advanceTimersByTime(86_400_000)
    expect(client.visit()).toMatchObject({ outcome: 'hit', headers: [] })
  })

  it('header mode returns the token in its response header and honours it', () => {
    const { pool } = affinityPool({ endpoints: endpointUrls(5), affinity: { mode: 'header', header: { name: 'X-Session' } } })
    const first = serveNow(pool, {})
    const token = headerOf(first.headers, 'x-session') as string
    expect(token).toMatch(/^[A-Za-z0-9_-]{58}$/)
    for (let i = 0; i < 10; i++) expect(serveNow(pool, { headers: { 'X-Session': token } })).toMatchObject({ outcome: 'hit', endpoint: first.endpoint, headers: [] })
  })

  it('a rebound session keeps its id: the live count moves with it, it is not counted twice', () => {
    const { pool, store } = affinityPool({ endpoints: endpointUrls(3), affinity: { mode: 'cookie' } })
    const client = cookieClient(pool)
    const first = client.visit()
    first.endpoint?.setEjectedUntil(Date.now() + 60_000, 'test')
    const moved = client.visit()
    expect(moved.outcome).toBe('rebound')
    expect(moved.endpoint).not.toBe(first.endpoint)
    expect(Object.fromEntries(store.sessionCounts('web:cookie'))).toEqual({ [moved.endpoint?.id as string]: 1 })
  })

  it('the live-session count outlasts every token that is still valid (a draining Pod waits for zero safely)', () => {
    // Start just before a whole second: tokens carry whole seconds, the worst case for idle checks.
    fakeClock(1_800_000_000_900)
    const { pool, store } = affinityPool({ endpoints: endpointUrls(3), affinity: { mode: 'cookie', cookie: { idleTimeout: '2s' } } })
    const client = cookieClient(pool)
    client.visit()
    const cookie = client.cookie() as string
    for (let elapsed = 100; elapsed <= 5000; elapsed += 100) {
      vi.advanceTimersByTime(100)
      store.sweep()
      const counted = total(store, 'web:cookie')
      // Probe without touching: a lookup only (serve would refresh the session).
      const lookup = affinityOf(pool)?.lookup(affinityRequest({ cookie }))
      const valid = lookup !== undefined && !(lookup instanceof Promise) && lookup.problem === undefined
      if (valid) expect(counted, `${elapsed} ms after the last request`).toBe(1)
    }
    expect(total(store, 'web:cookie')).toBe(0)
  })
})
