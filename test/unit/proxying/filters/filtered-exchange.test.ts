/**
 * The request path with hand-built RouteActions (before any config source produces them): a real
 * traffic handler in this process, real upstreams on 127.0.0.1. The CLI integration tests
 * (test/integration/httproute-filters.test.ts) cover the same through HTTPRoute configs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SecretRing } from '../../../../src/affinity/secret-ring.js'
import { validateConfig } from '../../../../src/config/load.js'
import { newTrafficState } from '../../../../src/lifecycle/traffic-state.js'
import { AccessLog } from '../../../../src/observability/access-log.js'
import { createLogger } from '../../../../src/observability/logger.js'
import { handleRequest } from '../../../../src/proxying/handler.js'
import { buildRuntime, closeRuntime, type ProxyRuntime } from '../../../../src/proxying/runtime.js'
import type { HeaderModifier, RouteAction, RouteFilter } from '../../../../src/routing/route-action.js'
import type { PathRule, RouteTable } from '../../../../src/routing/route-table.js'
import { MemoryAffinityStore } from '../../../../src/stores/memory-store.js'
import { send } from '../../../helpers/http-client.js'
import { startUpstream, type TestUpstream } from '../../../helpers/upstream.js'
import { waitFor } from '../../../helpers/wait.js'

const NONE: HeaderModifier = { set: [], add: [], remove: [] }
const action = (id: string, parts: Partial<RouteAction>): RouteAction => ({ id, backends: [{ pool: 'v1', weight: 1, filters: [] }], sessionPersistence: undefined, filters: [], timeouts: undefined, retry: undefined, ...parts })
const requestHeaders = (modifier: Partial<HeaderModifier>): RouteFilter => ({ type: 'RequestHeaderModifier', modifier: { ...NONE, ...modifier } })
const responseHeaders = (modifier: Partial<HeaderModifier>): RouteFilter => ({ type: 'ResponseHeaderModifier', modifier: { ...NONE, ...modifier } })

let v1: TestUpstream
let v2: TestUpstream
let runtime: ProxyRuntime
let server: Server
let port: number
/** Per path: how many requests the `flaky` upstream answered with 500 before succeeding. */
let flakyFailures = 0

beforeAll(async () => {
  v1 = await startUpstream('v1')
  v2 = await startUpstream('v2')
  // Answers ?status=N with N until `succeedAfter` requests failed, like the conformance backend's retry simulation.
  v1.mode = {
    kind: 'custom',
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://x')
      const delay = Number(url.searchParams.get('delay') ?? 0)
      const failing = Number(url.searchParams.get('succeedAfter') ?? 0)
      const status = failing > flakyFailures ? (flakyFailures++, Number(url.searchParams.get('responseCode') ?? 500)) : 200
      const headers: Record<string, string> = { 'x-upstream': 'v1', 'content-type': 'application/json', 'x-header-set': 'from-backend', 'x-header-add': 'some-other-value', 'x-header-remove': 'val' }
      setTimeout(() => {
        res.writeHead(status, headers)
        res.end(JSON.stringify({ url: req.url, headers: req.headers }))
      }, delay)
    },
  }
  const loaded = validateConfig({ listen: '127.0.0.1:0', pools: [{ name: 'v1', endpoints: [v1.url] }, { name: 'v2', endpoints: [v2.url] }], routes: { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'v1' } } }] } }] } }, { file: 'filters.yaml', baseDir: '.' })
  const base = loaded.routes.anyHost?.rules[0] as PathRule
  const prefix = (path: string, routeAction: RouteAction): PathRule => ({ ...base, pathType: 'Prefix', path, regex: undefined, action: routeAction, description: `* ${path} Prefix` })
  const rules: PathRule[] = [
    prefix('/set', action('set', { filters: [requestHeaders({ set: [['X-Header-Set', 'set-overwrites-values']] }), responseHeaders({ set: [['X-Header-Set', 'set-overwrites-values']] })] })),
    prefix('/add', action('add', { filters: [requestHeaders({ add: [['X-Header-Add', 'add-appends-values']] }), responseHeaders({ add: [['X-Header-Add', 'add-appends-values']] })] })),
    prefix('/remove', action('remove', { filters: [requestHeaders({ remove: ['X-Header-Remove'] }), responseHeaders({ remove: ['X-Header-Remove'] })] })),
    prefix('/redirect', action('redirect', { backends: [], filters: [{ type: 'RequestRedirect', redirect: { scheme: 'https', hostname: 'example.org', port: undefined, path: { type: 'ReplacePrefixMatch', value: '/new' }, statusCode: 301 } }] })),
    prefix('/nothing', action('nothing', { backends: [] })),
    prefix('/prefix/one', action('rewrite', { filters: [{ type: 'URLRewrite', rewrite: { hostname: 'one.example.org', path: { type: 'ReplacePrefixMatch', value: '/one' } } }] })),
    prefix('/mirror', action('mirror', { filters: [requestHeaders({ set: [['X-Mirrored', 'yes']] }), { type: 'RequestMirror', mirror: { pool: 'v2', share: 1 } }] })),
    prefix('/backend-filter', action('backend-filter', { backends: [{ pool: 'v1', weight: 1, filters: [requestHeaders({ add: [['X-Backend', 'v1']] })] }] })),
    prefix('/request-timeout', action('request-timeout', { timeouts: { requestMs: 300, backendRequestMs: undefined } })),
    prefix('/backend-timeout', action('backend-timeout', { timeouts: { requestMs: undefined, backendRequestMs: 300 } })),
    prefix('/retry', action('retry', { retry: { attempts: 3, codes: [500], backoffMs: 20 } })),
  ]
  const table: RouteTable = { exactHosts: new Map(), wildcardHosts: new Map(), anyHost: { rules }, defaultBackend: undefined }
  runtime = buildRuntime({ ...loaded, routes: table }, { accessLog: new AccessLog('off'), logger: createLogger('silent'), ring: new SecretRing(['a-secret-that-is-long-enough-000']), store: new MemoryAffinityStore(), traffic: newTrafficState() })
  server = createServer((req: IncomingMessage, res: ServerResponse) => handleRequest(req, res, runtime, false))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  await v1.stop()
  await v2.stop()
  await closeRuntime(runtime)
})

const seen = (body: Record<string, unknown> | undefined): { url: string; headers: Record<string, string> } => body as { url: string; headers: Record<string, string> }

describe('filters on the request path (hand-built actions)', () => {
  it('request and response header modifiers: set overwrites, add appends, remove drops', async () => {
    const set = await send({ port, path: '/set', headers: { 'x-header-set': 'some-other-value' } })
    expect([seen(set.json).headers['x-header-set'], set.headers['x-header-set']]).toEqual(['set-overwrites-values', 'set-overwrites-values'])
    const add = await send({ port, path: '/add', headers: { 'X-Header-Add': 'some-other-value' } })
    expect([seen(add.json).headers['x-header-add'], add.headers['x-header-add']]).toEqual(['some-other-value,add-appends-values', 'some-other-value,add-appends-values'])
    const remove = await send({ port, path: '/remove', headers: { 'X-Header-Remove': 'val' } })
    expect([seen(remove.json).headers['x-header-remove'], remove.headers['x-header-remove']]).toEqual([undefined, undefined])
  })

  it('a redirect rule answers with Location and its status, without a backend', async () => {
    const before = v1.arrivals.length
    const response = await send({ port, path: '/redirect/a?b=1' })
    expect([response.status, response.headers.location]).toEqual([301, 'https://example.org/new/a?b=1'])
    expect(v1.arrivals.length).toBe(before)
  })

  it('a rule with neither backends nor redirect answers 500 ERR_NO_BACKEND', async () => {
    const response = await send({ port, path: '/nothing' })
    expect([response.status, response.headers['x-latch-error']]).toEqual([500, 'ERR_NO_BACKEND'])
  })

  it('URLRewrite replaces the Host and the matched prefix', async () => {
    const response = await send({ port, path: '/prefix/one/two?q=1' })
    expect([seen(response.json).url, seen(response.json).headers.host]).toEqual(['/one/two?q=1', 'one.example.org'])
  })

  it('RequestMirror sends a copy (with the modified headers) to the other pool; the client gets the real answer', async () => {
    const response = await send({ port, path: '/mirror', method: 'POST', body: 'payload' })
    expect([response.status, response.headers['x-upstream']]).toEqual([200, 'v1'])
    const copy = await waitFor(() => v2.arrivals.find((arrival) => arrival.url === '/mirror'))
    expect([copy.method, copy.bodyBytes, copy.headers['x-mirrored']]).toEqual(['POST', 7, 'yes'])
  })

  it('a mirror pool that is down changes nothing for the real request', async () => {
    await v2.stop()
    try {
      const response = await send({ port, path: '/mirror' })
      expect(response.status).toBe(200)
    } finally {
      await v2.restart()
    }
  })

  it('backendRef filters apply when that backend is chosen', async () => {
    const response = await send({ port, path: '/backend-filter' })
    expect(seen(response.json).headers['x-backend']).toBe('v1')
  })

  it('timeouts.request answers 504 ERR_ROUTE_TIMEOUT; a fast answer passes', async () => {
    expect((await send({ port, path: '/request-timeout' })).status).toBe(200)
    const slow = await send({ port, path: '/request-timeout?delay=1000' })
    expect([slow.status, slow.headers['x-latch-error']]).toEqual([504, 'ERR_ROUTE_TIMEOUT'])
  })

  it('timeouts.backendRequest answers 504 ERR_UPSTREAM_TIMEOUT for a slow attempt', async () => {
    expect((await send({ port, path: '/backend-timeout' })).status).toBe(200)
    const slow = await send({ port, path: '/backend-timeout?delay=1000' })
    expect([slow.status, slow.headers['x-latch-error']]).toEqual([504, 'ERR_UPSTREAM_TIMEOUT'])
  })

  it('retry: codes and attempts, on the same (only) endpoint', async () => {
    flakyFailures = 0
    expect((await send({ port, path: '/retry?responseCode=500&succeedAfter=2' })).status).toBe(200)
    flakyFailures = 0
    expect((await send({ port, path: '/retry?responseCode=500&succeedAfter=4' })).status).toBe(500)
    flakyFailures = 0
    expect((await send({ port, path: '/retry?responseCode=503&succeedAfter=2' })).status).toBe(503)
  })
})
