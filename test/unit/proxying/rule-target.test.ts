import { afterEach, describe, expect, it } from 'vitest'
import { ProxyError } from '../../../src/errors/proxy-error.js'
import type { CanaryConditions, RouteAction, SessionPersistence } from '../../../src/routing/route-action.js'
import { RuleCounters } from '../../../src/proxying/rule-counters.js'
import { ruleTarget, type BackendTarget, type RuleTarget } from '../../../src/proxying/rule-target.js'
import { commitSession, resolveSession } from '../../../src/proxying/session-step.js'
import { whenReady } from '../../../src/stores/affinity-store.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import type { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import type { PoolTarget } from '../../../src/proxying/pool-target.js'
import { affinityPool, affinityRequest, closeAll, endpointUrls, headerOf, setCookieOf, targetOf, type ClientRequest } from '../affinity/affinity-fixtures.js'
import { MemoryAffinityStore } from '../../../src/stores/memory-store.js'
import { SecretRing } from '../../../src/affinity/secret-ring.js'

afterEach(closeAll)

const ring = new SecretRing(['unit-test-secret-0123456789abcdef'])
let store = new MemoryAffinityStore()
afterEach(async () => {
  await store.close()
  store = new MemoryAffinityStore()
})

function action(weights: Record<string, number>, extra: Partial<RouteAction> = {}): RouteAction {
  return {
    id: 'httproute/default/shop/rule-0',
    backends: Object.entries(weights).map(([pool, weight]) => ({ pool, weight, filters: [] })),
    sessionPersistence: undefined,
    filters: [],
    timeouts: undefined,
    retry: undefined,
    ...extra,
  }
}

function pools(names: readonly string[], affinity: Record<string, unknown> = { mode: 'none' }): Map<string, PoolTarget> {
  return new Map(names.map((name, i) => {
    const { pool } = affinityPool({ name, endpoints: endpointUrls(3, 11_000 + i * 10), affinity }, { ring, store })
    return [name, targetOf(pool)]
  }))
}

function build(rule: RouteAction, targets: Map<string, PoolTarget>, counters = new RuleCounters()): RuleTarget {
  return ruleTarget(rule, targets, { ring, store, counters })
}

interface RuleServed {
  readonly pool: string
  readonly endpoint: Endpoint
  readonly outcome: string | undefined
  readonly headers: readonly string[]
}

/** One request through the rule's choice and the real session step. */
function serve(rule: RuleTarget, client: ClientRequest): RuleServed {
  const request = affinityRequest(client)
  const chosen = rule.choose(request)
  if (chosen instanceof ProxyError) throw chosen
  const target: BackendTarget = chosen
  const pick = (): Endpoint => target.pool.pick(undefined) as Endpoint
  const result = whenReady(resolveSession(target, request, pick), (endpoint) => {
    const headers: string[] = []
    commitSession(target, request, endpoint as Endpoint, headers)
    return { pool: target.pool.name, endpoint: endpoint as Endpoint, outcome: request.affinityOutcome, headers }
  })
  if (result instanceof Promise) throw new Error('memory store answers synchronously')
  return result
}

function tally(rule: RuleTarget, requests: number): Record<string, number> {
  const counts: Record<string, number> = {}
  for (let i = 0; i < requests; i++) {
    const served = serve(rule, {})
    counts[served.pool] = (counts[served.pool] ?? 0) + 1
  }
  return counts
}

describe('weighted backends of a rule', () => {
  it('splits 10,000 requests 90/10 exactly, and never sends two canary requests in a row', () => {
    const rule = build(action({ main: 90, canary: 10 }), pools(['main', 'canary']))
    const order: string[] = []
    for (let i = 0; i < 10_000; i++) order.push(serve(rule, {}).pool)
    expect(order.filter((pool) => pool === 'canary')).toHaveLength(1000)
    expect(order.join(',')).not.toContain('canary,canary')
  })

  it('gives a backend of weight 0 nothing', () => {
    expect(tally(build(action({ main: 1, off: 0 }), pools(['main', 'off'])), 1000)).toEqual({ main: 1000 })
  })

  it('splits 50/30/20 over three backends', () => {
    expect(tally(build(action({ a: 50, b: 30, c: 20 }), pools(['a', 'b', 'c'])), 10_000)).toEqual({ a: 5000, b: 3000, c: 2000 })
  })

  it('answers ERR_NO_BACKEND (500) when every weight is 0', () => {
    const rule = build(action({ a: 0, b: 0 }), pools(['a', 'b']))
    const chosen = rule.choose(affinityRequest({}))
    expect(chosen).toBeInstanceOf(ProxyError)
    expect((chosen as ProxyError).status).toBe(500)
  })

  it('counts requests per backend, across a rebuild (reload) of the rule', () => {
    const targets = pools(['main', 'canary'])
    const counters = new RuleCounters()
    tally(build(action({ main: 90, canary: 10 }), targets, counters), 100)
    const rebuilt = build(action({ main: 50, canary: 50 }), targets, counters)
    tally(rebuilt, 100)
    expect(rebuilt.report().backends.map((backend) => [backend.pool, backend.weight, backend.requests])).toEqual([
      ['main', 50, 140],
      ['canary', 50, 60],
    ])
  })
})

const COOKIE: SessionPersistence = { type: 'Cookie', sessionName: 'shop-session', absoluteTimeoutMs: 3_600_000, idleTimeoutMs: undefined, lifetimeType: 'Permanent' }

describe('rule-level session persistence', () => {
  it('keeps every session on its backend and endpoint when the weights change (sticky canary)', () => {
    const targets = pools(['main', 'canary'])
    const before = build(action({ main: 90, canary: 10 }, { sessionPersistence: COOKIE }), targets)
    const sessions = Array.from({ length: 200 }, () => serve(before, {}))
    expect(sessions.filter((s) => s.pool === 'canary')).toHaveLength(20)
    const after = build(action({ main: 10, canary: 90 }, { sessionPersistence: COOKIE }), targets)
    for (const session of sessions) {
      const again = serve(after, { cookie: setCookieOf(session.headers, 'shop-session') as string })
      expect([again.pool, again.endpoint, again.outcome]).toEqual([session.pool, session.endpoint, 'hit'])
    }
    expect(tally(after, 100)).toEqual({ main: 10, canary: 90 })
    expect(after.report().backends.map((backend) => [backend.pool, backend.sessions, backend.liveSessions])).toEqual([
      ['main', 'rule', 180 + 10],
      ['canary', 'rule', 20 + 90],
    ])
  })

  it('rebinds a session whose pool was removed from the rule (outcome rebound), keeping its cookie name', () => {
    const targets = pools(['main', 'canary'])
    const before = build(action({ main: 0, canary: 1 }, { sessionPersistence: COOKIE }), targets)
    const first = serve(before, {})
    expect(first.pool).toBe('canary')
    const after = build(action({ main: 1 }, { sessionPersistence: COOKIE }), targets)
    const moved = serve(after, { cookie: setCookieOf(first.headers, 'shop-session') as string })
    expect([moved.pool, moved.outcome]).toEqual(['main', 'rebound'])
    expect(setCookieOf(moved.headers, 'shop-session')).toBeDefined()
  })

  it('gives a Permanent cookie Max-Age = absoluteTimeout and a Session cookie none', () => {
    const permanent = serve(build(action({ a: 1, b: 1 }, { sessionPersistence: COOKIE }), pools(['a', 'b'])), {})
    expect(headerOf(permanent.headers, 'set-cookie')).toMatch(/^shop-session=[\w-]{58}; Max-Age=3600; Path=\/; HttpOnly; SameSite=Lax$/)
    const session = serve(build(action({ c: 1, d: 1 }, { sessionPersistence: { ...COOKIE, lifetimeType: 'Session', idleTimeoutMs: 60_000 } }), pools(['c', 'd'])), {})
    expect(headerOf(session.headers, 'set-cookie')).not.toMatch(/Max-Age|Expires/i)
  })

  it('returns a Header session token in sessionName on the first response and honours it', () => {
    const rule = build(action({ a: 1, b: 1 }, { sessionPersistence: { ...COOKIE, type: 'Header', sessionName: 'X-Shop-Session' } }), pools(['a', 'b']))
    const first = serve(rule, {})
    const token = headerOf(first.headers, 'x-shop-session') as string
    expect(token).toMatch(/^[\w-]{58}$/)
    for (let i = 0; i < 5; i++) expect(serve(rule, { headers: { 'X-Shop-Session': token } })).toMatchObject({ pool: first.pool, endpoint: first.endpoint, outcome: 'hit' })
  })

  it('treats a forged or foreign token as absent', () => {
    const rule = build(action({ a: 1, b: 1 }, { sessionPersistence: COOKIE }), pools(['a', 'b']))
    const value = (setCookieOf(serve(rule, {}).headers, 'shop-session') as string).split('=')[1] as string
    const forged = `${value.slice(0, 30)}${value[30] === 'A' ? 'B' : 'A'}${value.slice(31)}`
    expect(serve(rule, { cookie: `shop-session=${forged}` }).outcome).toBe('invalid')
    // A token of another rule (another scope) does not verify either.
    const other = build({ ...action({ e: 1, f: 1 }, { sessionPersistence: COOKIE }), id: 'other' }, pools(['e', 'f']))
    expect(serve(other, { cookie: `shop-session=${value}` }).outcome).toBe('invalid')
  })
})

describe('sticky canaries over the pools’ own cookie affinity (Ingress, quick mode)', () => {
  it('keeps a session on the pool whose token it carries; legacy decides every request anew', () => {
    const targets = pools(['main', 'canary'], { mode: 'cookie' })
    const sticky = build(action({ main: 90, canary: 10 }), targets)
    const sessions = Array.from({ length: 100 }, () => serve(sticky, {}))
    const flipped = build(action({ main: 0, canary: 1 }), targets)
    for (const session of sessions) expect(serve(flipped, { cookie: setCookieOf(session.headers) as string }).pool).toBe(session.pool)
    const canary: CanaryConditions = { header: undefined, headerValue: undefined, headerPattern: undefined, cookie: undefined, affinityBehavior: 'legacy' }
    const legacy = build(action({ main: 0, canary: 1 }, { canary }), targets)
    for (const session of sessions) expect(serve(legacy, { cookie: setCookieOf(session.headers) as string }).pool).toBe('canary')
  })
})

describe('canary conditions (ingress-nginx precedence: header, cookie, weight)', () => {
  const conditions = (over: Partial<CanaryConditions>): CanaryConditions => ({ header: undefined, headerValue: undefined, headerPattern: undefined, cookie: undefined, affinityBehavior: 'sticky', ...over })
  const poolOf = (rule: RuleTarget, client: ClientRequest): string => serve(rule, client).pool

  it('canary-by-header: always / never decide, other values fall through to the weight', () => {
    const rule = build(action({ main: 100, canary: 0 }, { canary: conditions({ header: 'x-canary' }) }), pools(['main', 'canary']))
    expect(poolOf(rule, { headers: { 'X-Canary': 'always' } })).toBe('canary')
    expect(poolOf(rule, { headers: { 'X-Canary': 'never' } })).toBe('main')
    expect(poolOf(rule, { headers: { 'X-Canary': 'yes' } })).toBe('main')
  })

  it('canary-by-header-value and -pattern: a match sends to the canary, anything else falls through', () => {
    const byValue = build(action({ main: 1, canary: 0 }, { canary: conditions({ header: 'x-region', headerValue: 'eu' }) }), pools(['main', 'canary']))
    expect(poolOf(byValue, { headers: { 'X-Region': 'eu' } })).toBe('canary')
    expect(poolOf(byValue, { headers: { 'X-Region': 'always' } })).toBe('main')
    const byPattern = build(action({ m: 1, c: 0 }, { canary: conditions({ header: 'x-region', headerPattern: /^eu-.*/ }) }), pools(['m', 'c']))
    expect(poolOf(byPattern, { headers: { 'X-Region': 'eu-west' } })).toBe('c')
    expect(poolOf(byPattern, { headers: { 'X-Region': 'us-east' } })).toBe('m')
  })

  it('header beats cookie, cookie beats weight', () => {
    const rule = build(action({ main: 0, canary: 1 }, { canary: conditions({ header: 'x-canary', cookie: 'canary' }) }), pools(['main', 'canary']))
    expect(poolOf(rule, { cookie: 'canary=never' })).toBe('main')
    expect(poolOf(rule, { cookie: 'canary=never', headers: { 'X-Canary': 'always' } })).toBe('canary')
    expect(poolOf(rule, { cookie: 'canary=always', headers: { 'X-Canary': 'never' } })).toBe('main')
    expect(poolOf(rule, { cookie: 'canary=maybe' })).toBe('canary')
  })
})
