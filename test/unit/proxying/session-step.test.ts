import { afterEach, describe, expect, it } from 'vitest'
import { noSession, type SessionLookup } from '../../../src/affinity/session-affinity.js'
import { pickOutcome, sessionVerdict } from '../../../src/proxying/session-step.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import type { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { affinityPool, closeAll, endpointUrls, serveNow, setCookieOf } from '../affinity/affinity-fixtures.js'

// Only `servesBoundSessions` is read of the bound endpoint.
const endpoint = (serves: boolean): Endpoint => ({ servesBoundSessions: serves }) as Endpoint
const bound = (serves: boolean): SessionLookup => ({ ...noSession(true), bound: endpoint(serves) })
const gone: SessionLookup = { ...noSession(true), boundGone: true }

describe('sessionVerdict', () => {
  it('uses a bound endpoint that serves its sessions, in either mode', () => {
    expect(sessionVerdict(bound(true), 'rebind')).toBe('hit')
    expect(sessionVerdict(bound(true), 'fail')).toBe('hit')
  })

  it('rebinds, or refuses with onUnavailable: fail, when the bound endpoint cannot serve', () => {
    expect(sessionVerdict(bound(false), 'rebind')).toBe('rebind')
    expect(sessionVerdict(bound(false), 'fail')).toBe('refuse')
  })

  it('rebinds a session whose endpoint left the pool, even with onUnavailable: fail', () => {
    expect(sessionVerdict(gone, 'rebind')).toBe('rebind')
    expect(sessionVerdict(gone, 'fail')).toBe('rebind')
  })

  it('picks when there is no binding, with the reason as outcome', () => {
    expect(sessionVerdict(noSession(true), 'fail')).toBe('pick')
    expect(pickOutcome(noSession(true))).toBe('new')
    expect(pickOutcome(noSession(true, 'invalid'))).toBe('invalid')
    expect(pickOutcome(noSession(false))).toBeUndefined()
  })
})

describe('the session step with onUnavailable: fail (real pool, affinity and step)', () => {
  afterEach(closeAll)

  const strictPool = (): UpstreamPool => affinityPool({ endpoints: endpointUrls(3), affinity: { mode: 'cookie', onUnavailable: 'fail' } }).pool

  it('refuses a session whose endpoint is still in the pool but unavailable, and keeps its binding', () => {
    const pool = strictPool()
    const first = serveNow(pool, {})
    const cookie = setCookieOf(first.headers) as string
    ;(first.endpoint as Endpoint).setCheckState('unhealthy', 'test')
    expect(serveNow(pool, { cookie })).toMatchObject({ endpoint: undefined, refused: true })
    ;(first.endpoint as Endpoint).setCheckState('healthy', 'test')
    expect(serveNow(pool, { cookie })).toMatchObject({ endpoint: first.endpoint, outcome: 'hit' })
  })

  it('rebinds a session whose endpoint was removed from the pool: it never comes back', () => {
    const pool = strictPool()
    const first = serveNow(pool, {})
    const cookie = setCookieOf(first.headers) as string
    pool.release(first.endpoint as Endpoint)
    const moved = serveNow(pool, { cookie })
    expect(moved.refused).toBe(false)
    expect(moved.outcome).toBe('rebound')
    expect(pool.endpoints).toContain(moved.endpoint)
    const again = setCookieOf(moved.headers) as string
    expect(serveNow(pool, { cookie: again })).toMatchObject({ endpoint: moved.endpoint, outcome: 'hit' })
  })
})
