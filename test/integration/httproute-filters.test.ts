/**
 * Gateway API HTTPRoute filters, timeouts and retry through the real CLI with real upstreams. Each
 * `describe` is named after the conformance test it comes from (kubernetes-sigs/gateway-api,
 * conformance/tests/<name>.go / .yaml): the routes are that test's manifests (pools in place of
 * Services, a hostname per test so they share one Latch), the cases its test cases.
 *
 * Listener ports: the conformance Gateway listens on 80 (and 8080 for one redirect case); Latch
 * listens on an ephemeral port, so the requests carry the Host a client of those listeners would
 * send (`host` for port 80, `host:8080`): Latch derives the redirect port from the Host header.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startGatewayEcho, type EchoedRequest } from '../helpers/gateway-echo.js'
import { send, type SimpleResponse } from '../helpers/http-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import type { TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

type Rule = Record<string, unknown>
const httpRoute = (name: string, hostname: string, rules: Rule[]): object => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: 'gateway-conformance-infra' }, spec: { parentRefs: [{ name: 'same-namespace' }], hostnames: [hostname], rules } })
const prefix = (value: string): Rule => ({ matches: [{ path: { type: 'PathPrefix', value } }] })
const backend = (name = 'infra-backend-v1'): Rule => ({ backendRefs: [{ name, port: 8080 }] })
const headers = (set: [string, string][], add: [string, string][], remove: string[]): Rule => ({
  ...(set.length > 0 ? { set: set.map(([name, value]) => ({ name, value })) } : {}),
  ...(add.length > 0 ? { add: add.map(([name, value]) => ({ name, value })) } : {}),
  ...(remove.length > 0 ? { remove } : {}),
})
const requestHeaderModifier = (modifier: Rule): Rule => ({ type: 'RequestHeaderModifier', requestHeaderModifier: modifier })
const responseHeaderModifier = (modifier: Rule): Rule => ({ type: 'ResponseHeaderModifier', responseHeaderModifier: modifier })
const redirect = (fields: Rule): Rule => ({ filters: [{ type: 'RequestRedirect', requestRedirect: fields }] })
/** The set/add/remove that several conformance tests combine with another filter. */
const MODIFY_HEADERS = requestHeaderModifier(headers([['X-Header-Set', 'set-overwrites-values']], [['X-Header-Add', 'header-val-1'], ['X-Header-Add-Append', 'header-val-2']], ['X-Header-Remove']))

/** The multiple/case-insensitivity modifiers of HTTPRouteRequestHeaderModifier (the response test has the same). */
const MULTIPLE = headers([['X-Header-Set-1', 'header-set-1'], ['X-Header-Set-2', 'header-set-2']], [['X-Header-Add-1', 'header-add-1'], ['X-Header-Add-2', 'header-add-2'], ['X-Header-Add-3', 'header-add-3']], ['X-Header-Remove-1', 'X-Header-Remove-2'])
const CASE = headers([['X-Header-Set', 'header-set']], [['x-header-add', 'header-add']], ['X-Header-Remove'])
const modifierRules = (wrap: (modifier: Rule) => Rule): Rule[] => [
  { ...prefix('/set'), filters: [wrap(headers([['X-Header-Set', 'set-overwrites-values']], [], []))], ...backend() },
  { ...prefix('/add'), filters: [wrap(headers([], [['X-Header-Add', 'add-appends-values']], []))], ...backend() },
  { ...prefix('/remove'), filters: [wrap(headers([], [], ['X-Header-Remove']))], ...backend() },
  { ...prefix('/multiple'), filters: [wrap(MULTIPLE)], ...backend() },
  { ...prefix('/case-insensitivity'), filters: [wrap(CASE)], ...backend() },
]

const ROUTES = [
  httpRoute('request-header-modifier', 'request-header-modifier.example', modifierRules(requestHeaderModifier)),
  httpRoute('response-header-modifier', 'response-header-modifier.example', [
    ...modifierRules(responseHeaderModifier),
    { ...prefix('/response-and-request-header-modifiers'), filters: [MODIFY_HEADERS, responseHeaderModifier(MULTIPLE)], ...backend() },
  ]),
  httpRoute('request-header-modifier-backend', 'backend-header-modifier.example', [
    { ...prefix('/'), backendRefs: [{ name: 'infra-backend-v1', port: 8080, filters: [requestHeaderModifier(headers([['X-Header-Set', 'set-overwrites-values']], [['X-Header-Add', 'header-val-1']], ['X-Header-Remove']))] }] },
  ]),
  httpRoute('redirect-host-and-status', 'redirect-host-and-status.example', [
    { ...prefix('/hostname-redirect'), ...redirect({ hostname: 'example.org' }) },
    { ...prefix('/host-and-status'), ...redirect({ hostname: 'example.org', statusCode: 301 }) },
  ]),
  httpRoute('redirect-path', 'redirect-path.example', [
    { ...prefix('/original-prefix'), ...redirect({ path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } }) },
    { ...prefix('/full'), ...redirect({ path: { type: 'ReplaceFullPath', replaceFullPath: '/full-path-replacement' } }) },
    { ...prefix('/path-and-host'), ...redirect({ hostname: 'example.org', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } }) },
    { ...prefix('/path-and-status'), ...redirect({ statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } }) },
    { ...prefix('/full-path-and-host'), ...redirect({ hostname: 'example.org', path: { type: 'ReplaceFullPath', replaceFullPath: '/replacement-full' } }) },
    { ...prefix('/full-path-and-status'), ...redirect({ statusCode: 301, path: { type: 'ReplaceFullPath', replaceFullPath: '/replacement-full' } }) },
  ]),
  httpRoute('redirect-port-and-scheme', 'redirect-port-and-scheme.example', [
    { ...prefix('/scheme-nil-and-port-nil'), ...redirect({ hostname: 'example.org' }) },
    { ...prefix('/scheme-nil-and-port-80'), ...redirect({ hostname: 'example.org', port: 80 }) },
    { ...prefix('/scheme-nil-and-port-8080'), ...redirect({ hostname: 'example.org', port: 8080 }) },
    { ...prefix('/scheme-https-and-port-nil'), ...redirect({ hostname: 'example.org', scheme: 'https' }) },
    { ...prefix('/scheme-https-and-port-443'), ...redirect({ hostname: 'example.org', scheme: 'https', port: 443 }) },
    { ...prefix('/scheme-https-and-port-8443'), ...redirect({ hostname: 'example.org', scheme: 'https', port: 8443 }) },
  ]),
  httpRoute('rewrite-path', 'rewrite-path.example', [
    { ...prefix('/prefix/one'), filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/one' } } }], ...backend() },
    { ...prefix('/strip-prefix'), filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } } }], ...backend() },
    { ...prefix('/full/one'), filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/one' } } }], ...backend() },
    { ...prefix('/full/rewrite-path-and-modify-headers'), filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplaceFullPath', replaceFullPath: '/test' } } }, MODIFY_HEADERS], ...backend() },
    { ...prefix('/prefix/rewrite-path-and-modify-headers'), filters: [{ type: 'URLRewrite', urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/prefix' } } }, MODIFY_HEADERS], ...backend() },
  ]),
  httpRoute('rewrite-host', 'rewrite.example', [
    { ...prefix('/one'), filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'one.example.org' } }], ...backend() },
    { filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'example.org' } }], ...backend('infra-backend-v2') },
    { ...prefix('/rewrite-host-and-modify-headers'), filters: [{ type: 'URLRewrite', urlRewrite: { hostname: 'test.example.org' } }, MODIFY_HEADERS], ...backend('infra-backend-v2') },
  ]),
  httpRoute('request-mirror', 'request-mirror.example', [
    { ...prefix('/mirror'), filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'infra-backend-v2', namespace: 'gateway-conformance-infra', port: 8080 } } }], ...backend() },
    { ...prefix('/mirror-and-modify-headers'), filters: [MODIFY_HEADERS, { type: 'RequestMirror', requestMirror: { backendRef: { name: 'infra-backend-v2', port: 8080 } } }], ...backend() },
  ]),
  httpRoute('request-percentage-mirror', 'percentage-mirror.example', [
    { ...prefix('/percent-mirror'), filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'infra-backend-v3', port: 8080 }, percent: 20 } }], ...backend() },
    { ...prefix('/percent-mirror-fraction'), filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'infra-backend-v3', port: 8080 }, fraction: { numerator: 25, denominator: 50 } } }], ...backend() },
  ]),
  httpRoute('request-timeout', 'timeout.example', [
    { ...prefix('/request-timeout'), ...backend(), timeouts: { request: '500ms' } },
    { ...prefix('/disable-request-timeout'), ...backend(), timeouts: { request: '0s' } },
    { ...prefix('/backend-timeout'), ...backend(), timeouts: { backendRequest: '500ms' } },
    { ...prefix('/disable-backend-timeout'), ...backend(), timeouts: { backendRequest: '0s' } },
  ]),
  httpRoute('retries', 'retry.example', [
    { ...prefix('/retry/code-500-attempts-3'), retry: { codes: [500], attempts: 3 }, ...backend('infra-backend-v3') },
    { ...prefix('/retry/code-all-attempts-2'), retry: { codes: [500, 502, 503, 504], attempts: 2 }, ...backend('infra-backend-v3') },
    { ...prefix('/retry/no-status-code-attempts-3'), retry: { attempts: 3 }, ...backend('infra-backend-v3') },
    { ...prefix('/retry/backoff'), retry: { codes: [500], attempts: 1, backoff: '300ms' }, timeouts: { request: '200ms' }, ...backend('infra-backend-v3') },
    // HTTPRouteRetryWithTimeouts
    { ...prefix('/retry/backend-request-timeout-200ms'), retry: { attempts: 2 }, timeouts: { backendRequest: '200ms' }, ...backend('infra-backend-v3') },
    { ...prefix('/retry/request-timeout-200ms'), retry: { codes: [500], attempts: 5 }, timeouts: { backendRequest: '200ms', request: '400ms' }, ...backend('infra-backend-v3') },
  ]),
  httpRoute('request-multiple-mirrors', 'multiple-mirrors.example', [
    {
      ...prefix('/multi-mirror'),
      filters: [
        { type: 'RequestMirror', requestMirror: { backendRef: { name: 'infra-backend-v2', port: 8080 } } },
        { type: 'RequestMirror', requestMirror: { backendRef: { name: 'infra-backend-v3', port: 8080 } } },
      ],
      ...backend(),
    },
  ]),
]

let v1: TestUpstream
let v2: TestUpstream
let v3: TestUpstream
let latch: LatchProcess

beforeAll(async () => {
  ;[v1, v2, v3] = await Promise.all([startGatewayEcho('infra-backend-v1'), startGatewayEcho('infra-backend-v2'), startGatewayEcho('infra-backend-v3')])
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      pools: [
        { name: 'infra-backend-v1', endpoints: [v1.url] },
        { name: 'infra-backend-v2', endpoints: [v2.url] },
        // One endpoint, so the conformance backend's failure counts apply to it (retries go back to it).
        { name: 'infra-backend-v3', endpoints: [v3.url] },
      ],
      routes: ROUTES,
    },
  })
})

afterAll(async () => {
  await latch.stop()
  await Promise.all([v1, v2, v3].map((upstream) => upstream.stop()))
})

const request = (host: string, path: string, extra: Record<string, string> = {}, method = 'GET'): Promise<SimpleResponse> => send({ port: latch.port, path, method, headers: { host, ...extra } })
const echoed = (response: SimpleResponse): EchoedRequest => {
  expect(response.status, response.body).toBe(200)
  return response.json as unknown as EchoedRequest
}

/** Expected headers compared case-insensitively (names), as the conformance suite does. */
function expectHeaders(actual: Record<string, unknown>, expected: Record<string, string>, absent: string[] = []): void {
  for (const [name, value] of Object.entries(expected)) expect(actual[name.toLowerCase()], name).toBe(value)
  for (const name of absent) expect(actual[name.toLowerCase()], name).toBeUndefined()
}

/**
 * The cases of HTTPRouteRequestHeaderModifier, which HTTPRouteResponseHeaderModifier repeats for the
 * response: path, headers sent (by the client; by the backend in the response test), headers
 * expected, headers that must be absent.
 */
const MODIFIER_CASES = [
  ['/set', { 'Some-Other-Header': 'val' }, { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }, []],
  ['/set', { 'Some-Other-Header': 'val', 'X-Header-Set': 'some-other-value' }, { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }, []],
  ['/add', { 'Some-Other-Header': 'val' }, { 'Some-Other-Header': 'val', 'X-Header-Add': 'add-appends-values' }, []],
  ['/add', { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value' }, { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value,add-appends-values' }, []],
  ['/remove', { 'X-Header-Remove': 'val' }, {}, ['X-Header-Remove']],
  [
    '/multiple',
    { 'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2', 'Another-Header': 'another-header-val', 'X-Header-Remove-1': 'val' },
    { 'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1', 'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val' },
    ['X-Header-Remove-1', 'X-Header-Remove-2'],
  ],
  [
    '/case-insensitivity',
    { 'x-header-set': 'original-val-set', 'x-header-add': 'original-val-add', 'x-header-remove': 'original-val-remove', 'Another-Header': 'another-header-val' },
    { 'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add', 'Another-Header': 'another-header-val' },
    ['x-header-remove'],
  ],
] as const

describe('HTTPRouteRequestHeaderModifier', () => {
  const host = 'request-header-modifier.example'
  it.each(MODIFIER_CASES)('%s with %j', async (path, sent, expected, absent) => {
    expectHeaders(echoed(await request(host, path, sent)).headers, expected, [...absent])
  })
})

describe('HTTPRouteResponseHeaderModifier', () => {
  const host = 'response-header-modifier.example'
  const backendSets = (headers: Record<string, string>): Record<string, string> => ({ 'X-Echo-Set-Header': Object.entries(headers).map(([name, value]) => `${name}:${value}`).join(',') })
  it.each(MODIFIER_CASES)('%s with the backend setting %j', async (path, fromBackend, expected, absent) => {
    const response = await request(host, path, backendSets(fromBackend))
    expect(response.status).toBe(200)
    expectHeaders(response.headers, expected, [...absent])
  })

  it('/response-and-request-header-modifiers: both filters on one rule', async () => {
    const response = await request(host, '/response-and-request-header-modifiers', {
      'X-Header-Remove': 'remove-val',
      'X-Header-Add-Append': 'append-val-1',
      'X-Header-Echo': 'echo',
      ...backendSets({ 'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2', 'Another-Header': 'another-header-val', 'X-Header-Remove-1': 'remove-val-1', 'X-Header-Echo': 'echo' }),
    })
    expectHeaders(echoed(response).headers, { 'X-Header-Add': 'header-val-1', 'X-Header-Set': 'set-overwrites-values', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Echo': 'echo' }, ['X-Header-Remove'])
    expectHeaders(response.headers, { 'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1', 'X-Header-Add-2': 'add-val-2,header-add-2', 'Another-Header': 'another-header-val', 'X-Header-Echo': 'echo' }, ['X-Header-Remove-1', 'X-Header-Remove-2'])
  })
})

describe('HTTPRouteBackendRequestHeaderModifier (filters on a backendRef)', () => {
  it('modifies the request sent to that backend', async () => {
    const seen = echoed(await request('backend-header-modifier.example', '/', { 'X-Header-Set': 'some-other-value', 'X-Header-Add': 'a', 'X-Header-Remove': 'val' }))
    expectHeaders(seen.headers, { 'X-Header-Set': 'set-overwrites-values', 'X-Header-Add': 'a,header-val-1' }, ['X-Header-Remove'])
  })
})

/** Status and Location of a redirect; no request reaches any backend. */
async function redirected(host: string, path: string): Promise<[number, string | undefined]> {
  const before = v1.arrivals.length + v2.arrivals.length + v3.arrivals.length
  const response = await request(host, path)
  expect(v1.arrivals.length + v2.arrivals.length + v3.arrivals.length).toBe(before)
  return [response.status, response.headers.location]
}

describe('HTTPRouteRedirectHostAndStatus', () => {
  it.each([
    ['/hostname-redirect', 302, 'http://example.org/hostname-redirect'],
    ['/host-and-status', 301, 'http://example.org/host-and-status'],
  ])('%s → %d %s', async (path, status, location) => {
    expect(await redirected('redirect-host-and-status.example', path)).toEqual([status, location])
  })
})

describe('HTTPRouteRedirectPath', () => {
  it.each([
    ['/original-prefix/lemon', 302, 'http://redirect-path.example/replacement-prefix/lemon'],
    ['/full/path/original', 302, 'http://redirect-path.example/full-path-replacement'],
    ['/path-and-host', 302, 'http://example.org/replacement-prefix'],
    ['/path-and-status', 301, 'http://redirect-path.example/replacement-prefix'],
    ['/full-path-and-host', 302, 'http://example.org/replacement-full'],
    ['/full-path-and-status', 301, 'http://redirect-path.example/replacement-full'],
  ])('%s → %d %s', async (path, status, location) => {
    expect(await redirected('redirect-path.example', path)).toEqual([status, location])
  })

  it('keeps the query string', async () => {
    expect(await redirected('redirect-path.example', '/original-prefix/lemon?a=1&b=2')).toEqual([302, 'http://redirect-path.example/replacement-prefix/lemon?a=1&b=2'])
  })
})

describe('HTTPRouteRedirectPortAndScheme (HTTPRouteRedirectPort, HTTPRouteRedirectScheme)', () => {
  const host = 'redirect-port-and-scheme.example'
  it.each([
    // The listener on port 80: the client's Host names no port.
    [host, '/scheme-nil-and-port-nil', 'http://example.org/scheme-nil-and-port-nil'],
    [host, '/scheme-nil-and-port-80', 'http://example.org/scheme-nil-and-port-80'],
    [host, '/scheme-nil-and-port-8080', 'http://example.org:8080/scheme-nil-and-port-8080'],
    [host, '/scheme-https-and-port-nil', 'https://example.org/scheme-https-and-port-nil'],
    [host, '/scheme-https-and-port-443', 'https://example.org/scheme-https-and-port-443'],
    [host, '/scheme-https-and-port-8443', 'https://example.org:8443/scheme-https-and-port-8443'],
    // The listener on port 8080.
    [`${host}:8080`, '/scheme-nil-and-port-nil', 'http://example.org:8080/scheme-nil-and-port-nil'],
    [`${host}:8080`, '/scheme-nil-and-port-80', 'http://example.org/scheme-nil-and-port-80'],
    [`${host}:8080`, '/scheme-https-and-port-nil', 'https://example.org/scheme-https-and-port-nil'],
  ])('Host %s, %s → 302 %s', async (hostHeader, path, location) => {
    expect(await redirected(hostHeader, path)).toEqual([302, location])
  })
})

describe('HTTPRouteRewritePath', () => {
  const host = 'rewrite-path.example'
  it.each([
    ['/prefix/one/two', '/one/two'],
    ['/strip-prefix/three', '/three'],
    ['/strip-prefix', '/'],
    ['/full/one/two', '/one'],
    ['/prefix/one/two?q=1', '/one/two?q=1'],
  ])('%s reaches the backend as %s', async (path, rewritten) => {
    expect(echoed(await request(host, path)).path).toBe(rewritten)
  })

  it.each([
    ['/full/rewrite-path-and-modify-headers/test', '/test'],
    ['/prefix/rewrite-path-and-modify-headers/one', '/prefix/one'],
  ])('%s → %s with the header modifier applied too', async (path, rewritten) => {
    const seen = echoed(await request(host, path, { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Set': 'set-val' }))
    expect(seen.path).toBe(rewritten)
    expectHeaders(seen.headers, { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' }, ['X-Header-Remove'])
  })
})

describe('HTTPRouteRewriteHost', () => {
  it.each([
    ['/one', 'infra-backend-v1', 'one.example.org'],
    ['/two', 'infra-backend-v2', 'example.org'],
  ])('%s reaches %s with Host %s', async (path, backendName, rewritten) => {
    const seen = echoed(await request('rewrite.example', path))
    expect([seen.path, seen.backend, seen.host]).toEqual([path, backendName, rewritten])
  })

  it('/rewrite-host-and-modify-headers: host rewrite and header modifier together', async () => {
    const seen = echoed(await request('rewrite.example', '/rewrite-host-and-modify-headers', { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1' }))
    expect([seen.backend, seen.host]).toEqual(['infra-backend-v2', 'test.example.org'])
    expectHeaders(seen.headers, { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' }, ['X-Header-Remove'])
  })
})

describe('HTTPRouteRequestMirror', () => {
  const host = 'request-mirror.example'
  it('/mirror: the real answer comes from v1, a copy reaches v2', async () => {
    const seen = echoed(await request(host, '/mirror'))
    expect(seen.backend).toBe('infra-backend-v1')
    await waitFor(() => v2.arrivals.some((arrival) => arrival.url === '/mirror'))
  })

  it('/mirror-and-modify-headers: the copy carries the modified headers', async () => {
    const seen = echoed(await request(host, '/mirror-and-modify-headers', { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1' }))
    expectHeaders(seen.headers, { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' }, ['X-Header-Remove'])
    const copy = await waitFor(() => v2.arrivals.find((arrival) => arrival.url === '/mirror-and-modify-headers'))
    expectHeaders(copy.headers as Record<string, unknown>, { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' }, ['X-Header-Remove'])
  })

  it('a POST body read whole before dispatch is mirrored with the same bytes', async () => {
    const response = await send({ port: latch.port, path: '/mirror/post', method: 'POST', headers: { host }, body: 'x'.repeat(1000) })
    expect(response.status).toBe(200)
    const copy = await waitFor(() => v2.arrivals.find((arrival) => arrival.url === '/mirror/post'))
    expect([copy.method, copy.bodyBytes]).toEqual(['POST', 1000])
  })

  it('a body too large to be read whole streams to the backend and to the copy alike (no buffering)', async () => {
    const body = Buffer.alloc(300 * 1024, 'y')
    const response = await send({ port: latch.port, path: '/mirror/streamed', method: 'POST', headers: { host }, body })
    expect(response.status).toBe(200)
    const real = v1.arrivals.find((arrival) => arrival.url === '/mirror/streamed')
    const copy = await waitFor(() => v2.arrivals.find((arrival) => arrival.url === '/mirror/streamed'))
    expect([real?.bodyBytes, copy.bodyBytes, copy.bodySha256]).toEqual([body.length, body.length, real?.bodySha256])
  })

  it('a mirror backend that hangs delays nothing and fails nothing', async () => {
    const echo = v2.mode
    v2.mode = { kind: 'hang' }
    try {
      const heads = v2.heads.length
      for (let i = 0; i < 5; i++) expect(echoed(await request(host, `/mirror/hang-${i}`)).backend).toBe('infra-backend-v1')
      const streamed = await send({ port: latch.port, path: '/mirror/hang-streamed', method: 'POST', headers: { host }, body: Buffer.alloc(2 * 1024 * 1024, 'z') })
      expect([streamed.status, (streamed.json as unknown as EchoedRequest).backend]).toEqual([200, 'infra-backend-v1'])
      // Every real answer came back while the copies are still unanswered at the mirror backend (the
      // streamed one's copy may have been cut off for falling behind before its head went out).
      await waitFor(() => v2.heads.length >= heads + 5)
    } finally {
      await v2.stop()
      await v2.restart()
      v2.mode = echo
    }
  })
})

describe('HTTPRouteRequestMultipleMirrors', () => {
  it('/multi-mirror: the real answer comes from v1, a copy reaches v2 and another v3', async () => {
    expect(echoed(await request('multiple-mirrors.example', '/multi-mirror')).backend).toBe('infra-backend-v1')
    await waitFor(() => v2.arrivals.some((arrival) => arrival.url === '/multi-mirror') && v3.arrivals.some((arrival) => arrival.url === '/multi-mirror'))
  })
})

describe('HTTPRouteRequestPercentageMirror', () => {
  async function mirroredShare(path: string, count: number): Promise<number> {
    const before = v3.arrivals.filter((arrival) => arrival.url.startsWith(path)).length
    for (let i = 0; i < count; i++) echoed(await request('percentage-mirror.example', `${path}?n=${i}`))
    // Copies may still be in flight: wait until the count stops moving.
    let last = -1
    let now = 0
    await waitFor(async () => {
      now = v3.arrivals.filter((arrival) => arrival.url.startsWith(`${path}?`)).length - before
      const settled = now === last
      last = now
      await new Promise((resolve) => setTimeout(resolve, 100))
      return settled
    })
    return now / count
  }

  it('percent: 20 mirrors about a fifth of the requests', async () => {
    const share = await mirroredShare('/percent-mirror', 400)
    expect(share).toBeGreaterThan(0.12)
    expect(share).toBeLessThan(0.28)
  })

  it('fraction 25/50 mirrors about half of the requests', async () => {
    const share = await mirroredShare('/percent-mirror-fraction', 400)
    expect(share).toBeGreaterThan(0.4)
    expect(share).toBeLessThan(0.6)
  })
})

/** The three cases of HTTPRouteTimeoutRequest / HTTPRouteTimeoutBackendRequest: fast, slow (504 with `code`), slow with the timeout disabled. */
function timeoutCases(timed: string, disabled: string, code: string): void {
  it.each([
    [timed, 200],
    [`${timed}?delay=1s`, 504],
    [`${disabled}?delay=1s`, 200],
  ])('%s → %d', async (path, status) => {
    const response = await request('timeout.example', path)
    expect(response.status).toBe(status)
    if (status === 504) expect(response.headers['x-latch-error']).toBe(code)
  })
}

describe('HTTPRouteTimeoutRequest', () => timeoutCases('/request-timeout', '/disable-request-timeout', 'ERR_ROUTE_TIMEOUT'))

describe('HTTPRouteTimeoutBackendRequest', () => timeoutCases('/backend-timeout', '/disable-backend-timeout', 'ERR_UPSTREAM_TIMEOUT'))

describe('HTTPRouteRetry', () => {
  let id = 0
  const attempt = async (path: string, query: string): Promise<number> => (await request('retry.example', `${path}?${query}&id=${++id}`)).status
  it('succeeds after 2 retries when retry is configured for status code 500 and max attempts is 3', async () => {
    expect(await attempt('/retry/code-500-attempts-3', 'responseCode=500&succeedAfter=2')).toBe(200)
  })
  it('fails when required retries on 500 exceed max attempts', async () => {
    expect(await attempt('/retry/code-500-attempts-3', 'responseCode=500&succeedAfter=4')).toBe(500)
  })
  it('does not retry on 503 when retry is only configured for status code 500', async () => {
    expect(await attempt('/retry/code-500-attempts-3', 'responseCode=503&succeedAfter=2')).toBe(503)
  })
  it('succeeds after 1 retry on 500 when retry is configured for all status codes and max attempts is 2', async () => {
    expect(await attempt('/retry/code-all-attempts-2', 'responseCode=500&succeedAfter=1')).toBe(200)
  })
  it('never sends a POST twice (Latch\'s safe-retry rules stay in force)', async () => {
    const response = await send({ port: latch.port, path: `/retry/code-500-attempts-3?responseCode=500&succeedAfter=1&id=${++id}`, method: 'POST', headers: { host: 'retry.example' }, body: 'once' })
    expect(response.status).toBe(500)
  })
  it('the backoff counts against timeouts.request', async () => {
    const response = await request('retry.example', `/retry/backoff?responseCode=500&succeedAfter=1&id=${++id}`)
    expect([response.status, response.headers['x-latch-error']]).toEqual([504, 'ERR_ROUTE_TIMEOUT'])
  })
})

describe('HTTPRouteRetryWithTimeouts', () => {
  let id = 0
  const attempt = async (path: string, query: string): Promise<SimpleResponse> => request('retry.example', `${path}?${query}&id=timeouts-${++id}`)
  it('succeeds after 2 retries on backend timeout with max attempts 2', async () => {
    expect((await attempt('/retry/backend-request-timeout-200ms', 'responseCode=500&succeedAfter=2&delayRetry=300ms')).status).toBe(200)
  })
  it('fails when required retries on backend timeout exceed max attempts', async () => {
    const response = await attempt('/retry/backend-request-timeout-200ms', 'responseCode=500&succeedAfter=3&delayRetry=300ms')
    expect([response.status, response.headers['x-latch-error']]).toEqual([504, 'ERR_UPSTREAM_TIMEOUT'])
  })
  it('succeeds when retries complete within the request timeout', async () => {
    expect((await attempt('/retry/request-timeout-200ms', 'responseCode=500&succeedAfter=1')).status).toBe(200)
  })
  it('fails with 504 when retry delays exceed the request timeout', async () => {
    const response = await attempt('/retry/request-timeout-200ms', 'responseCode=500&succeedAfter=4&delayRetry=100ms')
    expect([response.status, response.headers['x-latch-error']]).toEqual([504, 'ERR_ROUTE_TIMEOUT'])
  })
})

describe('HTTPRouteRetryConnectionError', () => {
  it('succeeds after 2 retries on connection errors and max attempts is 3', async () => {
    expect((await request('retry.example', '/retry/no-status-code-attempts-3?succeedAfter=2&id=conn-1')).status).toBe(200)
  })
  it('fails when required retries on connection errors exceed max attempts (Latch answers 502 ERR_UPSTREAM_RESET)', async () => {
    const response = await request('retry.example', '/retry/no-status-code-attempts-3?succeedAfter=4&id=conn-2')
    expect([response.status, response.headers['x-latch-error']]).toEqual([502, 'ERR_UPSTREAM_RESET'])
  })
})
