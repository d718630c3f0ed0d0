import { describe, expect, it } from 'vitest'
import { hostPort, redirectLocation } from '../../../../src/proxying/filters/redirect.js'
import type { RequestRedirect } from '../../../../src/routing/route-action.js'

const redirect = (parts: Partial<RequestRedirect>): RequestRedirect => ({ scheme: undefined, hostname: undefined, port: undefined, path: undefined, statusCode: 302, ...parts })
const on = (hostHeader: string, secure = false, target = '/p?q=1') => ({ hostHeader, secure, target })

describe('redirectLocation', () => {
  // HTTPRouteRedirectPortAndScheme: an HTTP listener on 80, one on 8080, an HTTPS one on 443.
  it.each([
    ['example.com', false, {}, 'http://example.org/p?q=1'],
    ['example.com', false, { port: 80 }, 'http://example.org/p?q=1'],
    ['example.com', false, { port: 8080 }, 'http://example.org:8080/p?q=1'],
    ['example.com', false, { scheme: 'https' }, 'https://example.org/p?q=1'],
    ['example.com', false, { scheme: 'https', port: 443 }, 'https://example.org/p?q=1'],
    ['example.com', false, { scheme: 'https', port: 8443 }, 'https://example.org:8443/p?q=1'],
    ['example.com:8080', false, {}, 'http://example.org:8080/p?q=1'],
    ['example.com:8080', false, { port: 80 }, 'http://example.org/p?q=1'],
    ['example.com:8080', false, { scheme: 'https' }, 'https://example.org/p?q=1'],
    ['example.org', true, {}, 'https://example.org/p?q=1'],
    ['example.org', true, { port: 443 }, 'https://example.org/p?q=1'],
    ['example.org', true, { port: 8443 }, 'https://example.org:8443/p?q=1'],
    ['example.org', true, { scheme: 'http' }, 'http://example.org/p?q=1'],
    ['example.org', true, { scheme: 'http', port: 80 }, 'http://example.org/p?q=1'],
    ['example.org', true, { scheme: 'http', port: 8080 }, 'http://example.org:8080/p?q=1'],
  ] as const)('Host %s (tls %s) with %j → %s', (hostHeader, secure, parts, expected) => {
    expect(redirectLocation(redirect({ hostname: 'example.org', ...parts }), on(hostHeader, secure), 'example.com', undefined)).toBe(expected)
  })

  it('keeps the request host (as routed), and its port, when no hostname is set', () => {
    expect(redirectLocation(redirect({ path: { type: 'ReplaceFullPath', value: '/new' } }), on('App.example.com:8081'), 'app.example.com', undefined)).toBe('http://app.example.com:8081/new?q=1')
  })

  it('replaces the prefix match or the full path, keeping the query (HTTPRouteRedirectPath)', () => {
    const prefixed = redirect({ path: { type: 'ReplacePrefixMatch', value: '/replacement-prefix' } })
    expect(redirectLocation(prefixed, on('gw', false, '/original-prefix/lemon?x'), 'gw', '/original-prefix')).toBe('http://gw/replacement-prefix/lemon?x')
    const full = redirect({ path: { type: 'ReplaceFullPath', value: '/full-path-replacement' } })
    expect(redirectLocation(full, on('gw', false, '/full/path/original'), 'gw', '/full')).toBe('http://gw/full-path-replacement')
  })

  it('reads the port of a Host header, IPv6 included', () => {
    expect([hostPort('a:8080'), hostPort('a'), hostPort('[::1]'), hostPort('[::1]:81'), hostPort('a:x')]).toEqual([8080, undefined, undefined, 81, undefined])
  })
})
