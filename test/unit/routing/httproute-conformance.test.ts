/**
 * The Gateway API conformance suite's HTTPRoute matching cases (HTTPRouteMatching,
 * HTTPRouteMatchingAcrossRoutes, HTTPRouteExactPathMatching, HTTPRoutePathMatchOrder,
 * HTTPRouteHeaderMatching, HTTPRouteQueryParamMatching, HTTPRouteMethodMatching and the
 * listener-independent part of HTTPRouteHostnameIntersection) against Latch's router, with the
 * suite's manifests read from a manifest file as the config loader reads them.
 */
import { describe, expect, it } from 'vitest'
import { fixture } from '../../helpers/config-mistakes.js'
import { caseName, MATCHING_CASES } from '../../helpers/gateway-matching-cases.js'
import { routeOf, routerFor } from '../../helpers/route-fixtures.js'

describe('Gateway API conformance: HTTPRoute matching', () => {
  const router = routerFor(fixture('gateway-api-matching.yaml', 'routes'), ['infra-backend-v1', 'infra-backend-v2', 'infra-backend-v3'])
  it.each(MATCHING_CASES.map((c) => [caseName(c), c] as const))('%s', (_name, c) => {
    expect(routeOf(router, c.host, c.url, { ...(c.method === undefined ? {} : { method: c.method }), ...(c.headers === undefined ? {} : { headers: c.headers }) })).toBe(c.expected)
  })
})
