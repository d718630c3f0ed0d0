/**
 * Precedence of HTTPRoute matches across rules and routes (Gateway API HTTPRouteRule: Exact path,
 * longest prefix, method, number of header matches, number of query matches, then the oldest route,
 * then namespace/name, then rule order), wildcard hostnames, and how Ingress and HTTPRoute rules
 * for the same host combine in one table (route-table.ts).
 */
import { describe, expect, it } from 'vitest'
import { httpRoute, routeOf, routerFor } from '../../helpers/route-fixtures.js'

const to = (pool: string) => ({ backendRefs: [{ name: pool }] })
const POOLS = ['a', 'b', 'c', 'ingress']

describe('precedence across rules and routes', () => {
  it('an Exact path beats a PathPrefix of the same path, a longer prefix beats a shorter one with more conditions', () => {
    const router = routerFor(
      httpRoute('r', {
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: '/api' }, method: 'GET', headers: [{ name: 'x', value: '1' }] }], ...to('a') },
          { matches: [{ path: { type: 'Exact', value: '/api' } }], ...to('b') },
          { matches: [{ path: { type: 'PathPrefix', value: '/api/v1' } }], ...to('c') },
        ],
      }),
      POOLS,
    )
    expect(routeOf(router, 'h', '/api', { headers: { x: '1' } })).toBe('b')
    expect(routeOf(router, 'h', '/api/v1/x', { headers: { x: '1' } })).toBe('c')
    expect(routeOf(router, 'h', '/api/v2', { headers: { x: '1' } })).toBe('a')
  })

  it('on equal paths: method beats headers, more headers beat fewer, then more query parameters', () => {
    const router = routerFor(
      httpRoute('r', {
        rules: [
          { matches: [{ queryParams: [{ name: 'q', value: '1' }, { name: 'r', value: '2' }] }], ...to('c') },
          { matches: [{ headers: [{ name: 'x', value: '1' }, { name: 'y', value: '2' }] }], ...to('b') },
          { matches: [{ method: 'POST' }], ...to('a') },
        ],
      }),
      POOLS,
    )
    expect(routeOf(router, 'h', '/?q=1&r=2', { method: 'POST', headers: { x: '1', y: '2' } })).toBe('a')
    expect(routeOf(router, 'h', '/?q=1&r=2', { headers: { x: '1', y: '2' } })).toBe('b')
    expect(routeOf(router, 'h', '/?q=1&r=2', { headers: { x: '1' } })).toBe('c')
    expect(routeOf(router, 'h', '/?q=1', { headers: { x: '1' } })).toBe('404')
  })

  it('ties across routes: the oldest creationTimestamp wins, then namespace/name, then rule order', () => {
    const same = { rules: [{ matches: [{ path: { value: '/' } }], ...to('a') }] }
    const older = httpRoute('zzz', { rules: [{ ...to('b') }] }, { creationTimestamp: '2024-01-01T00:00:00Z' })
    const newer = httpRoute('aaa', same, { creationTimestamp: '2025-01-01T00:00:00Z' })
    expect(routeOf(routerFor([newer, older], POOLS), 'h', '/')).toBe('b')
    const byName = [httpRoute('zeta', { rules: [to('b')] }), httpRoute('alpha', { rules: [to('c')] })]
    expect(routeOf(routerFor(byName, POOLS), 'h', '/')).toBe('c')
    expect(routeOf(routerFor(httpRoute('one', { rules: [to('a'), to('b')] }), POOLS), 'h', '/')).toBe('a')
  })

  it('RegularExpression paths match the whole path and rank by the length of the expression', () => {
    const router = routerFor(httpRoute('r', { rules: [{ matches: [{ path: { type: 'RegularExpression', value: '/users/[0-9]+' } }], ...to('a') }, { matches: [{ path: { value: '/users' } }], ...to('b') }] }), POOLS)
    expect(routeOf(router, 'h', '/users/42')).toBe('a')
    expect(routeOf(router, 'h', '/users/42/orders')).toBe('b')
    expect(routeOf(router, 'h', '/users/x')).toBe('b')
  })

  it('header names are case-insensitive, values case-sensitive; RegularExpression matches the whole value', () => {
    const router = routerFor(httpRoute('r', { rules: [{ matches: [{ headers: [{ name: 'X-Version', value: 'Two' }] }], ...to('a') }, { matches: [{ headers: [{ type: 'RegularExpression', name: 'x-env', value: 'canary|beta' }] }], ...to('b') }] }), POOLS)
    expect(routeOf(router, 'h', '/', { headers: { 'x-version': 'Two' } })).toBe('a')
    expect(routeOf(router, 'h', '/', { headers: { 'X-VERSION': 'two' } })).toBe('404')
    expect(routeOf(router, 'h', '/', { headers: { 'x-env': 'beta' } })).toBe('b')
    expect(routeOf(router, 'h', '/', { headers: { 'x-env': 'betamax' } })).toBe('404')
  })

  it('query values: the first occurrence counts, percent-encoding is decoded, a bare name has the empty value', () => {
    const router = routerFor(httpRoute('r', { rules: [{ matches: [{ queryParams: [{ name: 'tag', value: 'a b' }] }], ...to('a') }, { matches: [{ queryParams: [{ type: 'RegularExpression', name: 'id', value: '[0-9]+' }] }], ...to('b') }] }), POOLS)
    expect(routeOf(router, 'h', '/?tag=a%20b')).toBe('a')
    expect(routeOf(router, 'h', '/?tag=a+b')).toBe('a')
    expect(routeOf(router, 'h', '/?tag=x&tag=a%20b')).toBe('404')
    expect(routeOf(router, 'h', '/?x=1&id=42')).toBe('b')
    expect(routeOf(router, 'h', '/?id')).toBe('404')
    expect(routeOf(router, 'h', '/?identity=42')).toBe('404')
  })
})

describe('hostnames', () => {
  const router = routerFor(
    [
      httpRoute('wild', { hostnames: ['*.example.com'], rules: [to('a')] }),
      httpRoute('deeper', { hostnames: ['*.eu.example.com'], rules: [to('b')] }),
      httpRoute('exact', { hostnames: ['shop.eu.example.com'], rules: [{ matches: [{ path: { value: '/only' } }], ...to('c') }] }),
    ],
    POOLS,
  )
  it.each([
    ['a wildcard matches one extra label', 'x.example.com', '/', 'a'],
    ['a wildcard matches two or more extra labels', 'x.y.z.example.com', '/', 'a'],
    ['the longest matching wildcard wins', 'x.eu.example.com', '/', 'b'],
    ['...also several labels deep', 'x.y.eu.example.com', '/', 'b'],
    ['an exact hostname beats wildcards', 'shop.eu.example.com', '/only', 'c'],
    ['no fall-through from the exact host to a wildcard', 'shop.eu.example.com', '/', '404'],
    ['a wildcard does not match the bare domain', 'example.com', '/', '404'],
  ])('%s: %s%s → %s', (_name, host, url, expected) => {
    expect(routeOf(router, host, url)).toBe(expected)
  })
})

describe('Ingress and HTTPRoute for the same host: one table', () => {
  const ingress = {
    rules: [
      { host: 'app.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix' as const, backend: { service: { name: 'ingress' } } }, { path: '/', pathType: 'Prefix' as const, backend: { service: { name: 'ingress' } } }] } },
      { host: '*.example.com', http: { paths: [{ path: '/', pathType: 'Prefix' as const, backend: { service: { name: 'ingress' } } }] } },
    ],
  }
  const route = httpRoute('canary', {
    hostnames: ['app.example.com', '*.example.com'],
    rules: [
      { matches: [{ path: { value: '/api' }, headers: [{ name: 'x-canary', value: 'yes' }] }], ...to('a') },
      { matches: [{ path: { value: '/api/v2' } }], ...to('b') },
      { matches: [{ path: { value: '/' } }], ...to('c') },
    ],
  })
  const router = routerFor([ingress, route], POOLS)
  it.each([
    ['a longer HTTPRoute prefix beats a shorter Ingress path', 'app.example.com', '/api/v2/x', {}, 'b'],
    ['on the same path, the HTTPRoute match with a header condition wins when it holds', 'app.example.com', '/api/x', { 'x-canary': 'yes' }, 'a'],
    ['...and the Ingress path serves the rest', 'app.example.com', '/api/x', {}, 'ingress'],
    ['identical paths without conditions: a named route beats an unnamed inline spec', 'app.example.com', '/', {}, 'c'],
    ['Ingress wildcards match one label; HTTPRoute wildcards deeper hosts too', 'a.b.example.com', '/', {}, 'c'],
    ['one label: both sources, ranked together', 'a.example.com', '/', {}, 'c'],
  ])('%s', (_name, host, url, headers, expected) => {
    expect(routeOf(router, host, url, { headers })).toBe(expected)
  })

  it('two unnamed sources with identical paths: the one given first in `routes` wins', () => {
    const unnamed = { apiVersion: 'gateway.networking.k8s.io/v1' as const, kind: 'HTTPRoute' as const, spec: { hostnames: ['app.example.com'], rules: [to('c')] } }
    expect(routeOf(routerFor([ingress, unnamed], POOLS), 'app.example.com', '/')).toBe('ingress')
    expect(routeOf(routerFor([unnamed, ingress], POOLS), 'app.example.com', '/')).toBe('c')
  })
})

describe('large host groups (first-segment index) route exactly as a full scan', () => {
  const rules = Array.from({ length: 40 }, (_, i) => ({ matches: [{ path: { value: `/svc-${i}` }, headers: [{ name: 'x-tenant', value: `t${i % 3}` }] }], ...to(['a', 'b', 'c'][i % 3] as string) }))
  const router = routerFor(
    [httpRoute('big', { rules: rules.slice(0, 16) }), httpRoute('big2', { rules: rules.slice(16, 32) }), httpRoute('big3', { rules: [...rules.slice(32), { matches: [{ path: { type: 'RegularExpression', value: '/svc-1/.*' } }], ...to('ingress') }, { matches: [{ path: { type: 'Exact', value: '/' } }], ...to('a') }] })],
    POOLS,
  )
  it.each([
    ['/svc-5/x', { 'x-tenant': 't2' }, 'c'],
    ['/svc-5/x', { 'x-tenant': 't1' }, '404'],
    ['/svc-39', { 'x-tenant': 't0' }, 'a'],
    ['/svc-1/deep', { 'x-tenant': 'nobody' }, 'ingress'],
    ['/svc-1/deep', { 'x-tenant': 't1' }, 'ingress'],
    ['/svc-1', { 'x-tenant': 't1' }, 'b'],
    ['/', {}, 'a'],
    ['/unknown', { 'x-tenant': 't0' }, '404'],
  ])('%s %j → %s', (url, headers, expected) => {
    expect(routeOf(router, 'h', url, { headers })).toBe(expected)
  })
})
