/**
 * HTTPRoute routing through the real CLI with real upstreams: the Gateway API conformance suite's
 * matching cases (each test is named after its conformance test), Ingress and HTTPRoute for the same
 * host from one manifest file, a watched HTTPRoute manifest file reloading, and what `latch check`
 * says about HTTPRoutes.
 */
import { writeFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fixture } from '../helpers/config-mistakes.js'
import { send } from '../helpers/http-client.js'
import { caseName, MATCHING_CASES } from '../helpers/gateway-matching-cases.js'
import { runCli, startLatch, writeConfig, type LatchProcess } from '../helpers/latch-process.js'
import { inlineHttpRouteYaml } from '../helpers/route-fixtures.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

/** Which upstream answered (its `x-upstream` header), or the status with Latch's error code. */
async function land(latch: LatchProcess, host: string, path: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<string> {
  const response = await send({ port: latch.port, path, method: options.method ?? 'GET', headers: { ...options.headers, host } })
  if (response.status === 200) return response.headers['x-upstream'] as string
  return response.headers['x-latch-error'] === 'ERR_NO_ROUTE' ? String(response.status) : `${response.status} ${String(response.headers['x-latch-error'])}`
}

describe('Gateway API conformance matching cases through the CLI (manifests from the suite)', () => {
  const upstreams: TestUpstream[] = []
  let latch: LatchProcess
  beforeAll(async () => {
    upstreams.push(...(await Promise.all(['infra-backend-v1', 'infra-backend-v2', 'infra-backend-v3'].map((name) => startUpstream(name)))))
    const [v1, v2, v3] = upstreams as [TestUpstream, TestUpstream, TestUpstream]
    latch = await startLatch({ args: ['--config', fixture('gateway-api-matching-config.yaml', 'routes')], env: { V1_URL: v1.url, V2_URL: v2.url, V3_URL: v3.url } })
  })
  afterAll(async () => {
    await latch?.stop()
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
  })

  it.each(MATCHING_CASES.map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
    expect(await land(latch, c.host, c.url, { ...(c.method === undefined ? {} : { method: c.method }), ...(c.headers === undefined ? {} : { headers: c.headers }) })).toBe(c.expected)
  })

  it('HTTPRouteQueryParamMatching: the upstream receives the query untouched', async () => {
    const upstream = upstreams[0] as TestUpstream
    const before = upstream.arrivals.length
    await land(latch, 'query.example', '/path1?animal=whale&x=%20y')
    expect(upstream.arrivals.slice(before).map((arrival) => arrival.url)).toEqual(['/path1?animal=whale&x=%20y'])
  })
})

describe('an Ingress and an HTTPRoute for the same host, from one manifest file', () => {
  let stable: TestUpstream
  let canary: TestUpstream
  let latch: LatchProcess
  beforeAll(async () => {
    ;[stable, canary] = await Promise.all([startUpstream('stable'), startUpstream('canary')])
    latch = await startLatch({ args: ['--config', fixture('mixed-manifests-config.yaml', 'routes')], env: { STABLE_URL: stable.url, CANARY_URL: canary.url } })
  })
  afterAll(async () => {
    await latch?.stop()
    await Promise.all([stable, canary].map((upstream) => upstream?.stop()))
  })

  it.each([
    ['the Ingress serves the host', '/', {}, 'stable'],
    ['the Ingress serves /api without the header', '/api/cart', {}, 'stable'],
    ['the HTTPRoute match with a header beats the Ingress path of the same length', '/api/cart', { 'x-canary': 'yes' }, 'canary'],
    ['an HTTPRoute Exact path beats the Ingress prefix', '/api/health', {}, 'canary'],
    ['a header value that differs leaves the request to the Ingress', '/api/cart', { 'x-canary': 'no' }, 'stable'],
  ])('%s: %s %j → %s', async (_name, path, headers, expected) => {
    expect(await land(latch, 'shop.example.com', path, { headers })).toBe(expected)
  })
})

describe('an HTTPRoute manifest file is watched: editing it reloads the routes', () => {
  let stable: TestUpstream
  let canary: TestUpstream
  let latch: LatchProcess
  const manifest = (pool: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop }
spec:
  rules:
    - matches: [{ headers: [{ name: x-canary, value: "yes" }] }]
      backendRefs: [{ name: ${pool} }]
    - backendRefs: [{ name: stable }]
`
  let file: string
  beforeAll(async () => {
    ;[stable, canary] = await Promise.all([startUpstream('stable'), startUpstream('canary')])
    file = writeConfig(manifest('stable'), 'routes.yaml')
    const config = writeConfig(`listen: 127.0.0.1:0\nreload: { debounce: 50ms }\npools:\n  - name: stable\n    endpoints: ["${stable.url}"]\n  - name: canary\n    endpoints: ["${canary.url}"]\nroutes: ${file}\n`)
    latch = await startLatch({ args: ['--config', config] })
  })
  afterAll(async () => {
    await latch?.stop()
    await Promise.all([stable, canary].map((upstream) => upstream?.stop()))
  })

  it('the header rule moves to the canary pool after the file changes; the other rule stays', async () => {
    expect(await land(latch, 'shop.example.com', '/', { headers: { 'x-canary': 'yes' } })).toBe('stable')
    writeFileSync(file, manifest('canary'))
    await waitFor(() => latch.logs.find((line) => line.msg === 'config reloaded'), 10_000, 20, 'file reload')
    expect(await land(latch, 'shop.example.com', '/', { headers: { 'x-canary': 'yes' } })).toBe('canary')
    expect(await land(latch, 'shop.example.com', '/')).toBe('stable')
  })
})

describe('latch check with HTTPRoutes', () => {
  const env = { STABLE_URL: 'http://127.0.0.1:1', CANARY_URL: 'http://127.0.0.1:2' }

  it('a valid file: exit 0, with the unsupported CORS filter named in a warning', async () => {
    const path = fixture('mixed-manifests-config.yaml', 'routes')
    const result = await runCli(['check', '--config', path], env)
    const warning = 'warning: ./mixed-manifests.yaml: documents[1].spec.rules[1].filters[0] (line 43): filter type CORS is not supported by Latch and is not applied'
    expect(result).toEqual({ code: 0, stdout: `${warning}\n${path}: ok (2 pools, 1 listener)\n`, stderr: '' })
  })

  it('mistakes in an inline HTTPRoute: exit 1, each with file, key path and line', async () => {
    const path = writeConfig(inlineHttpRouteYaml('hostnames: ["shop.example.com:80"]\nrules:\n  - matches: [{ method: FETCH }]\n    backendRefs: [{ name: stabel, port: 80 }]', 'stable'))
    const result = await runCli(['check', '--config', path], {})
    expect(result.code).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr.split('\n').filter(Boolean)).toEqual([
      `${path}: routes[0].spec.hostnames[0]: host "shop.example.com:80" must not contain a port — expected a DNS name such as app.example.com or a wildcard such as *.example.com, without a port (line 10)`,
      `${path}: routes[0].spec.rules[0].matches[0].method: expected one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH, got "FETCH" (did you mean "PATCH"?) (line 12)`,
    ])
  })

  it('an unknown pool in an HTTPRoute manifest file names the manifest, its key path and line', async () => {
    const dir = writeConfig(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: shop }
spec:
  rules:
    - backendRefs:
        - name: stabel
`, 'routes.yaml')
    const path = writeConfig(`listen: 127.0.0.1:0\npools:\n  - name: stable\n    endpoints: [http://127.0.0.1:1]\nroutes: ${dir}\n`)
    const result = await runCli(['check', '--config', path], {})
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`${dir}: spec.rules[0].backendRefs[0].name: unknown pool "stabel" — expected one of the pools defined in ${path}: stable (line 7)\n`)
  })
})
