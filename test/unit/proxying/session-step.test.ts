import { describe, expect, it } from 'vitest'
import { noSession, type SessionLookup } from '../../../src/affinity/session-affinity.js'
import { pickOutcome, sessionVerdict } from '../../../src/proxying/session-step.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'

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
