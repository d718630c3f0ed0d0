/**
 * @module The request/expected-backend tables of the Gateway API conformance suite's matching tests
 * (kubernetes-sigs/gateway-api conformance/tests/httproute-*.go), for the routes of
 * test/fixtures/routes/gateway-api-matching.yaml. Unit tests run them against the router, integration
 * tests through the CLI with real upstreams. `expected` is a pool (the suite's backend name) or `404`.
 */

export interface MatchingCase {
  /** The conformance test it comes from, e.g. `HTTPRouteMatching`. */
  readonly conformance: string
  readonly host: string
  readonly url: string
  readonly method?: string
  readonly headers?: Record<string, string>
  readonly expected: string
}

const V1 = 'infra-backend-v1'
const V2 = 'infra-backend-v2'
const V3 = 'infra-backend-v3'

const on = (conformance: string, host: string) => (url: string, expected: string, request: { method?: string; headers?: Record<string, string> } = {}): MatchingCase => ({ conformance, host, url, expected, ...request })

const matching = on('HTTPRouteMatching', 'matching.example')
const across = (host: string) => on('HTTPRouteMatchingAcrossRoutes', host)
const exact = on('HTTPRouteExactPathMatching', 'exact.example')
const order = on('HTTPRoutePathMatchOrder', 'order.example')
const header = on('HTTPRouteHeaderMatching', 'header.example')
const query = on('HTTPRouteQueryParamMatching', 'query.example')
const method = on('HTTPRouteMethodMatching', 'method.example')
const hostname = (host: string) => on('HTTPRouteHostnameIntersection', host)

export const MATCHING_CASES: readonly MatchingCase[] = [
  matching('/', V1),
  matching('/example', V1),
  matching('/', V1, { headers: { Version: 'one' } }),
  matching('/v2', V2),
  matching('/v2/example', V2),
  matching('/', V2, { headers: { Version: 'two' } }),
  matching('/v2/', V2),
  matching('/v2example', V1),
  matching('/foo/v2/example', V1),

  across('example.com')('/', V1),
  across('example.com')('/example', V1),
  across('example.net')('/example', V1),
  across('example.com')('/example', V1, { headers: { Version: 'one' } }),
  across('example.com')('/v2', V2),
  across('example.net')('/v2', V1),
  across('example.com')('/v2/example', V2),
  across('example.com')('/', V2, { headers: { Version: 'two' } }),

  exact('/one', V1),
  exact('/two', V2),
  exact('/', '404'),
  exact('/one/example', '404'),
  exact('/two/', '404'),
  exact('/Two', '404'),

  order('/match/exact/one', V3),
  order('/match/exact', V2),
  order('/match', V1),
  order('/match/prefix/one/any', V2),
  order('/match/prefix/any', V1),
  order('/match/any', V3),

  header('/', V1, { headers: { Version: 'one' } }),
  header('/', V2, { headers: { Version: 'two' } }),
  header('/', V1, { headers: { Version: 'two', Color: 'orange' } }),
  header('/', V2, { headers: { Version: 'two', Color: 'blue' } }),
  header('/', '404', { headers: { Color: 'orange' } }),
  header('/', '404', { headers: { 'Some-Other-Header': 'one' } }),
  header('/', V1, { headers: { Color: 'blue' } }),
  header('/', V1, { headers: { Color: 'green' } }),
  header('/', V2, { headers: { Color: 'red' } }),
  header('/', V2, { headers: { Color: 'yellow' } }),
  header('/', '404', { headers: { Color: 'purple' } }),

  query('/?animal=whale', V1),
  query('/?animal=dolphin', V2),
  query('/?animal=dolphin&color=blue', V3),
  query('/?ANIMAL=Whale', V3),
  query('/?animal=whale&otherparam=irrelevant', V1),
  query('/?animal=dolphin&color=yellow', V2),
  query('/?color=blue', '404'),
  query('/?animal=dog', '404'),
  query('/?animal=whaledolphin', '404'),
  query('/', '404'),
  query('/path1?animal=whale', V1),
  query('/?animal=whale', V2, { headers: { version: 'one' } }),
  query('/path2?animal=whale', V3, { headers: { version: 'two' } }),
  query('/path3?animal=shark', V1),
  query('/path4?animal=kraken', V1, { headers: { version: 'three' } }),
  query('/?animal=shark', '404'),
  query('/path4?animal=kraken', '404'),
  query('/path5?animal=hydra', V1),
  query('/?animal=hydra', V3, { headers: { version: 'four' } }),

  method('/', V1, { method: 'POST' }),
  method('/', V2, { method: 'GET' }),
  method('/', '404', { method: 'HEAD' }),
  method('/path1', V1, { method: 'GET' }),
  method('/', V2, { method: 'PUT', headers: { version: 'one' } }),
  method('/path2', V3, { method: 'POST', headers: { version: 'two' } }),
  method('/path3', V1, { method: 'PATCH' }),
  method('/path4', V1, { method: 'DELETE', headers: { version: 'three' } }),
  method('/', '404', { method: 'PUT' }),
  method('/path4', '404', { method: 'DELETE' }),
  method('/path5', V1, { method: 'PATCH' }),
  method('/', V2, { method: 'PATCH', headers: { version: 'four' } }),

  hostname('foo.anotherwildcard.io')('/s4', V1),
  hostname('bar.anotherwildcard.io')('/s4', V1),
  hostname('foo.bar.anotherwildcard.io')('/s4', V1),
  hostname('anotherwildcard.io')('/s4', '404'),
  hostname('foo.anotherwildcard.io')('/non-matching-prefix', '404'),
  hostname('first.com')('/', V2),
  hostname('sub.first.com')('/', V2),
  hostname('second.com')('/', V2),
  hostname('sub.second.com')('/', V2),
  hostname('third.com')('/', '404'),
  hostname('sub.third.com')('/', '404'),
]

/** `HTTPRouteMatching: GET matching.example/v2 {version: two} → infra-backend-v2` */
export function caseName(c: MatchingCase): string {
  const headers = c.headers === undefined ? '' : ` ${JSON.stringify(c.headers)}`
  return `${c.conformance}: ${c.method ?? 'GET'} ${c.host}${c.url}${headers} → ${c.expected}`
}
