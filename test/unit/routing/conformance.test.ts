/**
 * The kubernetes-sigs/ingress-controller-conformance scenarios (features/host_rules.feature,
 * path_rules.feature, default_backend.feature), one row per scenario, against Latch's router.
 */
import { describe, expect, it } from 'vitest'
import { routeOf, routerFor } from '../../helpers/route-fixtures.js'

const backend = (name: string, port: object = { number: 8080 }) => ({ service: { name, port } })
const prefixRoot = (name: string) => ({ http: { paths: [{ path: '/', pathType: 'Prefix' as const, backend: backend(name) }] } })

describe('conformance: host_rules.feature', () => {
  const router = routerFor(
    {
      tls: [{ hosts: ['foo.bar.com'], secretName: 'conformance-tls' }],
      rules: [
        { host: '*.foo.com', ...prefixRoot('wildcard-foo-com') },
        { host: 'foo.bar.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('foo-bar-com', { name: 'http' }) }] } },
      ],
    },
    ['wildcard-foo-com', 'foo-bar-com'],
  )
  it.each([
    ['host foo.bar.com matches request foo.bar.com', 'foo.bar.com', 'foo-bar-com'],
    ['host foo.bar.com does not match request subdomain.bar.com', 'subdomain.bar.com', '404'],
    ['wildcard matches based on shared suffix', 'bar.foo.com', 'wildcard-foo-com'],
    ['wildcard does not match more than a single DNS label', 'baz.bar.foo.com', '404'],
    ['wildcard does not match no DNS label', 'foo.com', '404'],
  ])('%s', (_scenario, host, expected) => {
    expect(routeOf(router, host, '/')).toBe(expected)
  })
})

describe('conformance: path_rules.feature', () => {
  const router = routerFor(
    {
      rules: [
        { host: 'exact-path-rules', http: { paths: [{ path: '/foo', pathType: 'Exact', backend: backend('foo-exact') }] } },
        {
          host: 'prefix-path-rules',
          http: {
            paths: [
              { path: '/foo', pathType: 'Prefix', backend: backend('foo-prefix') },
              { path: '/aaa/bbb', pathType: 'Prefix', backend: backend('aaa-slash-bbb-prefix') },
              { path: '/aaa', pathType: 'Prefix', backend: backend('aaa-prefix') },
            ],
          },
        },
        {
          host: 'mixed-path-rules',
          http: {
            paths: [
              { path: '/foo', pathType: 'Prefix', backend: backend('foo-prefix') },
              { path: '/foo', pathType: 'Exact', backend: backend('foo-exact') },
            ],
          },
        },
        {
          host: 'trailing-slash-path-rules',
          http: {
            paths: [
              { path: '/aaa/bbb/', pathType: 'Prefix', backend: backend('aaa-slash-bbb-slash-prefix') },
              { path: '/foo/', pathType: 'Exact', backend: backend('foo-slash-exact') },
            ],
          },
        },
      ],
    },
    ['foo-exact', 'foo-prefix', 'aaa-slash-bbb-prefix', 'aaa-prefix', 'aaa-slash-bbb-slash-prefix', 'foo-slash-exact'],
  )
  it.each([
    ['exact /foo matches request /foo', 'exact-path-rules', '/foo', 'foo-exact'],
    ['exact /foo does not match request /foo/', 'exact-path-rules', '/foo/', '404'],
    ['exact /foo does not match request /FOO', 'exact-path-rules', '/FOO', '404'],
    ['exact /foo does not match request /bar', 'exact-path-rules', '/bar', '404'],
    ['prefix /foo matches request /foo', 'prefix-path-rules', '/foo', 'foo-prefix'],
    ['prefix /foo matches request /foo/', 'prefix-path-rules', '/foo/', 'foo-prefix'],
    ['prefix /foo does not match request /FOO', 'prefix-path-rules', '/FOO', '404'],
    ['prefix /aaa/bbb matches request /aaa/bbb (longest path)', 'prefix-path-rules', '/aaa/bbb', 'aaa-slash-bbb-prefix'],
    ['prefix /aaa/bbb matches request /aaa/bbb/ccc', 'prefix-path-rules', '/aaa/bbb/ccc', 'aaa-slash-bbb-prefix'],
    ['prefix /aaa matches request /aaa/ccc', 'prefix-path-rules', '/aaa/ccc', 'aaa-prefix'],
    ['prefix /aaa does not match request /aaaccc', 'prefix-path-rules', '/aaaccc', '404'],
    ['mixed: exact /foo is preferred for request /foo', 'mixed-path-rules', '/foo', 'foo-exact'],
    ['prefix /aaa/bbb/ matches request /aaa/bbb', 'trailing-slash-path-rules', '/aaa/bbb', 'aaa-slash-bbb-slash-prefix'],
    ['prefix /aaa/bbb/ matches request /aaa/bbb/', 'trailing-slash-path-rules', '/aaa/bbb/', 'aaa-slash-bbb-slash-prefix'],
    ['exact /foo/ does not match request /foo', 'trailing-slash-path-rules', '/foo', '404'],
  ])('%s', (_scenario, host, path, expected) => {
    expect(routeOf(router, host, path)).toBe(expected)
  })
})

describe('conformance: default_backend.feature', () => {
  const router = routerFor({ defaultBackend: backend('echo-service') }, ['echo-service'])
  it.each([
    ['my-host', '/'],
    ['my-host', '/sub-path'],
    ['some-host', '/'],
    ['', '/resource'],
    ['some-host', '/resource'],
    ['my-host', '/resource'],
  ])('an Ingress with no rules sends %s %s to the default backend', (host, path) => {
    expect(routeOf(router, host, path)).toBe('echo-service')
  })
})
