/**
 * @module Builds routers from Ingress specs and HTTPRoute manifests the way the config loader does,
 * for table-driven tests.
 */
import { validateConfig } from '../../src/config/load.js'
import type { HTTPRouteManifestInput } from '../../src/config/httproute-schema.js'
import type { IngressSpecInput } from '../../src/config/ingress-schema.js'
import { parseRequestTarget } from '../../src/proxying/request-target.js'
import { ProxyError } from '../../src/errors/proxy-error.js'
import { Router } from '../../src/routing/router.js'

/**
 * Pool names used by a spec; each pool gets a dummy endpoint (routing never connects). `spec` is what
 * `routes` holds: an Ingress spec, an HTTPRoute manifest, a file name, or a list of these.
 */
export function routerFor(spec: IngressSpecInput | HTTPRouteManifestInput | string | readonly (IngressSpecInput | HTTPRouteManifestInput | string)[] | undefined, pools: readonly string[], baseDir = process.cwd()): Router<string> {
  const loaded = validateConfig(
    { listen: '127.0.0.1:0', pools: pools.map((name, index) => ({ name, endpoints: [`http://127.0.0.1:${index + 1}`] })), routes: spec },
    { file: 'routes-test.yaml', baseDir, env: {} },
  )
  return new Router(loaded.routes, (action) => action.backends.map((backend) => backend.pool).join('+'))
}

/**
 * Routes a request the way the proxy does: target parsed and normalised, Host normalised. Returns the
 * pool name, `404` when nothing matches, or `400` when the target is refused.
 */
export function routeOf(router: Router<string>, host: string, url: string, request: { method?: string; headers?: Record<string, string> } = {}): string {
  const target = parseRequestTarget(url, host)
  if (target instanceof ProxyError) return String(target.status)
  // Header names lower-case, as Node's parser gives them.
  const headers = Object.fromEntries(Object.entries(request.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]))
  return router.match(target.host, target.path, { method: request.method ?? 'GET', headers }, target.target)?.target ?? '404'
}

/** An HTTPRoute manifest with the given spec (and name, for tie-breaks). */
export function httpRoute(name: string, spec: HTTPRouteManifestInput['spec'], metadata: Record<string, unknown> = {}): HTTPRouteManifestInput {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: 'gateway-conformance-infra', ...metadata }, spec }
}

/**
 * Config YAML with one pool (`pool`, endpoint http://127.0.0.1:1) and one inline HTTPRoute named
 * `shop` whose spec is `spec` (YAML, unindented); its first spec line is line 10.
 */
export function inlineHttpRouteYaml(spec: string, pool = 'v1'): string {
  return `listen: 127.0.0.1:0
pools:
  - name: ${pool}
    endpoints: [http://127.0.0.1:1]
routes:
  - apiVersion: gateway.networking.k8s.io/v1
    kind: HTTPRoute
    metadata: { name: shop }
    spec:
${spec.replace(/^/gm, '      ')}
`
}
