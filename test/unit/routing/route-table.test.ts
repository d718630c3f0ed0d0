/**
 * Every precedence rule of the router (route-table.ts + router.ts), table-driven, each row a request
 * and the pool it must reach (`404` = no route, `400` = refused target).
 */
import { describe, expect, it } from 'vitest'
import { compileRouteTable } from '../../../src/routing/route-table.js'
import { normalizeHost } from '../../../src/routing/router.js'
import { routeOf, routerFor } from '../../helpers/route-fixtures.js'

type PathType = 'Exact' | 'Prefix' | 'ImplementationSpecific'
const path = (p: string, pathType: PathType, pool: string) => ({ path: p, pathType, backend: { service: { name: pool } } })
const rule = (host: string | undefined, ...paths: ReturnType<typeof path>[]) => ({ ...(host === undefined ? {} : { host }), http: { paths } })

describe('host precedence', () => {
  const router = routerFor(
    {
      rules: [
        rule('*.example.com', path('/', 'Prefix', 'wild')),
        rule('app.example.com', path('/', 'Prefix', 'exact')),
        rule('only-api.example.com', path('/api', 'Prefix', 'api')),
        rule('*.wild-api.test', path('/api', 'Prefix', 'wild-api')),
        rule(undefined, path('/', 'Prefix', 'any')),
      ],
    },
    ['wild', 'exact', 'api', 'wild-api', 'any'],
  )
  it.each([
    ['exact host beats wildcard', 'app.example.com', '/', 'exact'],
    ['wildcard matches one extra label', 'a.example.com', '/', 'wild'],
    ['wildcard does not match the bare suffix (falls to host-less rules)', 'example.com', '/', 'any'],
    ['wildcard does not match two extra labels', 'a.b.example.com', '/', 'any'],
    ['host is case-insensitive', 'APP.Example.COM', '/', 'exact'],
    ['port is ignored', 'app.example.com:8443', '/', 'exact'],
    ['trailing dot is ignored', 'app.example.com.', '/', 'exact'],
    ['trailing dot and port together', 'App.Example.com.:80', '/', 'exact'],
    ['wildcard with upper case and port', 'B.EXAMPLE.com:9', '/', 'wild'],
    ['rules without host match any host', 'unknown.test', '/x', 'any'],
    ['rules without host match an IP host', '127.0.0.1:8080', '/x', 'any'],
    ['rules without host match a missing Host', '', '/x', 'any'],
    ['no fall-through from an exact host group to host-less rules', 'only-api.example.com', '/other', '404'],
    ['the exact host group still serves its own paths', 'only-api.example.com', '/api/v1', 'api'],
    ['no fall-through from a wildcard host group to host-less rules', 'x.wild-api.test', '/other', '404'],
    ['no fall-through from an exact host group to the wildcard group', 'only-api.example.com', '/', '404'],
  ])('%s: %s%s → %s', (_rule, host, url, expected) => {
    expect(routeOf(router, host, url)).toBe(expected)
  })
})

describe('path precedence', () => {
  const router = routerFor(
    {
      rules: [
        rule(
          undefined,
          path('/foo', 'Prefix', 'foo-prefix'),
          path('/foo/bar/', 'Prefix', 'foobar-prefix'),
          path('/exact', 'Exact', 'exact'),
          path('/tie', 'Prefix', 'tie-prefix'),
          path('/tie', 'Exact', 'tie-exact'),
          path('/CaseSensitive', 'Exact', 'case'),
          path('/img/[0-9]+\\.png', 'ImplementationSpecific', 'regex'),
          path('/v[12]', 'ImplementationSpecific', 'regex-version'),
          path('/', 'Prefix', 'root'),
        ),
      ],
    },
    ['foo-prefix', 'foobar-prefix', 'exact', 'tie-prefix', 'tie-exact', 'case', 'regex', 'regex-version', 'root'],
  )
  it.each([
    ['Prefix matches the path itself', '/foo', 'foo-prefix'],
    ['Prefix matches with a trailing slash', '/foo/', 'foo-prefix'],
    ['Prefix matches sub-paths', '/foo/baz', 'foo-prefix'],
    ['Prefix is element-wise: /foo does not match /foobar', '/foobar', 'root'],
    ['trailing slash in a Prefix rule is ignored', '/foo/bar', 'foobar-prefix'],
    ['longest Prefix wins', '/foo/bar/baz', 'foobar-prefix'],
    ['Prefix is case-sensitive', '/FOO', 'root'],
    ['Exact matches only the exact path', '/exact', 'exact'],
    ['Exact does not match a trailing slash', '/exact/', 'root'],
    ['Exact does not match sub-paths', '/exact/x', 'root'],
    ['Exact is case-sensitive', '/casesensitive', 'root'],
    ['Exact matches its exact case', '/CaseSensitive', 'case'],
    ['equal length: Exact beats Prefix', '/tie', 'tie-exact'],
    ['equal length: Prefix still serves sub-paths', '/tie/x', 'tie-prefix'],
    ['ImplementationSpecific is a regex', '/img/42.png', 'regex'],
    ['ImplementationSpecific is anchored at the start', '/static/img/42.png', 'root'],
    ['ImplementationSpecific is not anchored at the end', '/img/42.png/thumb', 'regex'],
    ['ImplementationSpecific regex alternatives', '/v2/users', 'regex-version'],
    ['query string never affects routing (Exact)', '/exact?x=/foo', 'exact'],
    ['query string never affects routing (Prefix)', '/foobar?/foo/bar', 'root'],
    ['query string never affects routing (regex)', '/x?/img/1.png', 'root'],
    ['path is normalised before routing', '/foo/../exact', 'exact'],
    ['encoded unreserved characters are decoded before routing', '/%65xact', 'exact'],
    ['an ambiguous path is refused', '/foo%2Fbar', '400'],
  ])('%s: %s → %s', (_rule, url, expected) => {
    expect(routeOf(router, 'any.test', url)).toBe(expected)
  })
})

describe('no match', () => {
  it('falls back to defaultBackend', () => {
    const router = routerFor({ defaultBackend: { service: { name: 'fallback' } }, rules: [rule('a.test', path('/api', 'Prefix', 'api'))] }, ['fallback', 'api'])
    expect(routeOf(router, 'a.test', '/api')).toBe('api')
    expect(routeOf(router, 'a.test', '/other')).toBe('fallback')
    expect(routeOf(router, 'b.test', '/api')).toBe('fallback')
  })

  it('is a 404 without defaultBackend', () => {
    const router = routerFor({ rules: [rule('a.test', path('/api', 'Prefix', 'api'))] }, ['api'])
    expect(routeOf(router, 'b.test', '/api')).toBe('404')
  })

  it('with one pool and no routes, everything goes to that pool', () => {
    const router = routerFor(undefined, ['only'])
    expect(routeOf(router, 'whatever.test', '/any/path')).toBe('only')
  })
})

describe('compileRouteTable', () => {
  it('groups hosts by kind and sorts paths by precedence', () => {
    const router = routerFor({ rules: [rule('*.example.com', path('/', 'Prefix', 'w')), rule('a.test', path('/a', 'Prefix', 'p'), path('/a/b', 'Exact', 'e'))] }, ['w', 'p', 'e'])
    expect(routeOf(router, 'a.test', '/a/b')).toBe('e')
    expect(routeOf(router, 'a.test', '/a/b/c')).toBe('p')
  })

  it('a table with no sources routes nothing', () => {
    const table = compileRouteTable([], [])
    expect(table.defaultBackend).toBeUndefined()
    expect(table.anyHost).toBeUndefined()
    expect(table.exactHosts.size + table.wildcardHosts.size).toBe(0)
  })
})

describe('normalizeHost', () => {
  it.each([
    ['App.Example.com.:8080', 'app.example.com'],
    ['example.com', 'example.com'],
    ['[::1]:80', '[::1]'],
    ['[::1]', '[::1]'],
    ['127.0.0.1:8080', '127.0.0.1'],
    ['', ''],
  ])('%s → %s', (input, expected) => {
    expect(normalizeHost(input)).toBe(expected)
  })
})
