/**
 * HTTPRoute fields compiled into RouteActions (route-action.ts), and the mistakes `latch check`
 * reports with file, key path and line.
 */
import { describe, expect, it } from 'vitest'
import { validateConfig, type LoadedConfig } from '../../../src/config/load.js'
import { parseYamlDocuments, type YamlDocument } from '../../../src/config/yaml-source.js'
import { ConfigError } from '../../../src/errors/config-error.js'
import type { RouteAction } from '../../../src/routing/route-action.js'
import { httpRoute, inlineHttpRouteYaml } from '../../helpers/route-fixtures.js'

const POOLS = ['v1', 'v2', 'mirror']

function load(routes: unknown): LoadedConfig {
  return validateConfig({ listen: '127.0.0.1:0', pools: POOLS.map((name, i) => ({ name, endpoints: [`http://127.0.0.1:${i + 1}`] })), routes }, { file: 'latch.yaml', baseDir: process.cwd(), env: {} })
}

/** Loads YAML text (so issues carry lines) and returns its printed problems. */
function problems(yaml: string): string[] {
  const parsed = parseYamlDocuments(yaml, 'latch.yaml')
  if ('issues' in parsed) throw new Error('bad test YAML')
  const doc = parsed.documents[0] as YamlDocument
  try {
    validateConfig(doc.value, { file: 'latch.yaml', doc, baseDir: process.cwd(), env: {} })
    return []
  } catch (error) {
    return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}${issue.line === undefined ? '' : ` (line ${issue.line})`}`)
  }
}

function actionsOf(loaded: LoadedConfig): RouteAction[] {
  const rules = [...loaded.routes.exactHosts.values(), ...(loaded.routes.anyHost === undefined ? [] : [loaded.routes.anyHost])].flatMap((group) => group.rules)
  return [...new Set(rules.map((rule) => rule.action))]
}

describe('compiling an HTTPRoute rule into a RouteAction', () => {
  it('compiles backends with weights, filters (rule and per backend), timeouts, retry and the rule id', () => {
    const [action] = actionsOf(
      load(
        httpRoute('shop', {
          rules: [
            {
              name: 'canary',
              backendRefs: [
                { name: 'v1', port: 8080, namespace: 'elsewhere', weight: 90 },
                { name: 'v2', weight: 10, filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { add: [{ name: 'X-Backend', value: 'v2' }] } }] },
              ],
              filters: [
                { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'X-Set', value: 'a' }], add: [{ name: 'X-Add', value: 'b' }], remove: ['X-Gone'] } },
                { type: 'URLRewrite', urlRewrite: { hostname: 'internal.example', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } } },
                { type: 'RequestMirror', requestMirror: { backendRef: { name: 'mirror', port: 80 }, fraction: { numerator: 1, denominator: 4 } } },
                { type: 'RequestMirror', requestMirror: { backendRef: { name: 'mirror' }, percent: 30 } },
              ],
              matches: [{ path: { type: 'PathPrefix', value: '/old' } }],
              timeouts: { request: '10s', backendRequest: '1s500ms' },
              retry: { attempts: 2, codes: [502, 503], backoff: '100ms' },
            },
          ],
        }),
      ),
    )
    expect(action).toEqual({
      id: 'httproute/gateway-conformance-infra/shop/canary',
      backends: [
        { pool: 'v1', weight: 90, filters: [] },
        { pool: 'v2', weight: 10, filters: [{ type: 'ResponseHeaderModifier', modifier: { set: [], add: [['x-backend', 'v2']], remove: [] } }] },
      ],
      sessionPersistence: undefined,
      filters: [
        { type: 'RequestHeaderModifier', modifier: { set: [['x-set', 'a']], add: [['x-add', 'b']], remove: ['x-gone'] } },
        { type: 'URLRewrite', rewrite: { hostname: 'internal.example', path: { type: 'ReplacePrefixMatch', value: '/new' } } },
        { type: 'RequestMirror', mirror: { pool: 'mirror', share: 0.25 } },
        { type: 'RequestMirror', mirror: { pool: 'mirror', share: 0.3 } },
      ],
      timeouts: { requestMs: 10_000, backendRequestMs: 1500 },
      retry: { attempts: 2, codes: [502, 503], backoffMs: 100 },
    })
  })

  it('compiles a redirect rule (no backendRefs) with the default status 302', () => {
    const [action] = actionsOf(load(httpRoute('r', { rules: [{ filters: [{ type: 'RequestRedirect', requestRedirect: { scheme: 'https', port: 8443, path: { type: 'ReplaceFullPath', replaceFullPath: '/x' } } }] }] })))
    expect(action?.backends).toEqual([])
    expect(action?.filters).toEqual([{ type: 'RequestRedirect', redirect: { scheme: 'https', hostname: undefined, port: 8443, path: { type: 'ReplaceFullPath', value: '/x' }, statusCode: 302 } }])
  })

  const persistence = (sessionPersistence: object) => actionsOf(load(httpRoute('s', { rules: [{ backendRefs: [{ name: 'v1' }], sessionPersistence }] })))[0]?.sessionPersistence

  it.each([
    ['released experimental names: sessionName, idleTimeout, cookieConfig.lifetimeType', { sessionName: 'shop', absoluteTimeout: '1h', idleTimeout: '10m', cookieConfig: { lifetimeType: 'Permanent' } }, { type: 'Cookie', sessionName: 'shop', absoluteTimeoutMs: 3_600_000, idleTimeoutMs: 600_000, lifetimeType: 'Permanent' }],
    ['newer names: cookie.name, cookie.lifetimeType, cookie.path', { type: 'Cookie', absoluteTimeout: '1h', cookie: { name: 'shop', lifetimeType: 'Permanent', path: '/app' } }, { type: 'Cookie', sessionName: 'shop', absoluteTimeoutMs: 3_600_000, idleTimeoutMs: undefined, lifetimeType: 'Permanent', cookiePath: '/app' }],
    ['newer names: header.name', { type: 'Header', header: { name: 'X-Session' } }, { type: 'Header', sessionName: 'X-Session', absoluteTimeoutMs: undefined, idleTimeoutMs: undefined, lifetimeType: 'Session' }],
    ['released names for a header: sessionName', { type: 'Header', sessionName: 'X-Session', idleTimeout: '30s' }, { type: 'Header', sessionName: 'X-Session', absoluteTimeoutMs: undefined, idleTimeoutMs: 30_000, lifetimeType: 'Session' }],
    ['nothing but the type: defaults', {}, { type: 'Cookie', sessionName: 'latch-route-session', absoluteTimeoutMs: undefined, idleTimeoutMs: undefined, lifetimeType: 'Session' }],
  ])('sessionPersistence with %s', (_name, config, expected) => {
    expect(persistence(config)).toEqual(expected)
  })

  it('shares one action between the ORed matches of a rule', () => {
    const loaded = load(httpRoute('m', { rules: [{ matches: [{ path: { value: '/a' } }, { path: { value: '/b' } }], backendRefs: [{ name: 'v1' }] }] }))
    const rules = loaded.routes.anyHost?.rules ?? []
    expect(rules).toHaveLength(2)
    expect(rules[0]?.action).toBe(rules[1]?.action)
  })

  it('warns by name about fields it accepts but does not apply', () => {
    const loaded = load(httpRoute('w', { rules: [{ backendRefs: [{ name: 'v1', kind: 'ServiceImport', group: 'multicluster.x-k8s.io' }], filters: [{ type: 'CORS', cors: { allowOrigins: ['*'] } }, { type: 'ExtensionRef', extensionRef: { group: 'x', kind: 'y', name: 'z' } }] }] }))
    expect(loaded.warnings).toEqual([
      'latch.yaml: routes.spec.rules[0].filters[0]: filter type CORS is not supported by Latch and is not applied',
      'latch.yaml: routes.spec.rules[0].filters[1]: filter type ExtensionRef is not supported by Latch and is not applied',
      'latch.yaml: routes.spec.rules[0].backendRefs[0]: backendRef of group multicluster.x-k8s.io kind ServiceImport is not supported — its name "v1" is read as a Latch pool, as for a Service',
    ])
  })
})

const config = (route: string) => inlineHttpRouteYaml(route)

describe('mistakes in an HTTPRoute, reported with key path and line', () => {
  it.each([
    ['an unknown pool', 'rules:\n- backendRefs:\n  - name: v9', ['routes[0].spec.rules[0].backendRefs[0].name: unknown pool "v9" — expected one of the pools defined in latch.yaml: v1 (line 12)']],
    ['an unknown mirror pool', 'rules:\n- backendRefs: [{ name: v1 }]\n  filters:\n  - type: RequestMirror\n    requestMirror: { backendRef: { name: nowhere } }', ['routes[0].spec.rules[0].filters[0].requestMirror.backendRef.name: unknown pool "nowhere" — expected one of the pools defined in latch.yaml: v1 (line 14)']],
    ['a misspelt key', 'rules:\n- backendRef: [{ name: v1 }]', ['routes[0].spec.rules[0].backendRef: unknown key "backendRef" (did you mean "backendRefs"?) — expected one of: name, matches, filters, backendRefs, timeouts, retry, sessionPersistence (line 11)']],
    ['a bad path type', 'rules:\n- matches: [{ path: { type: Prefix, value: /a } }]\n  backendRefs: [{ name: v1 }]', ['routes[0].spec.rules[0].matches[0].path.type: expected one of Exact, PathPrefix, RegularExpression, got "Prefix" (line 11)']],
    ['a path with //', 'rules:\n- matches: [{ path: { type: Exact, value: "/a//b" } }]\n  backendRefs: [{ name: v1 }]', ['routes[0].spec.rules[0].matches[0].path.value: Exact path "/a//b" must not contain "//" (line 11)']],
    ['a bad regular expression', 'rules:\n- matches: [{ headers: [{ type: RegularExpression, name: x, value: "a(" }] }]\n  backendRefs: [{ name: v1 }]', ['routes[0].spec.rules[0].matches[0].headers[0].value: invalid regular expression "a(": /^(?:a()$/: Unterminated group — expected a JavaScript regular expression, matched against the whole value (line 11)']],
    ['a rule with neither backendRefs nor a redirect', 'rules:\n- matches: [{ path: { value: /a } }]', ['routes[0].spec.rules[0]: no backendRefs — expected backendRefs naming a pool, or a RequestRedirect filter (line 11)']],
    ['a redirect beside backendRefs', 'rules:\n- backendRefs: [{ name: v1 }]\n  filters: [{ type: RequestRedirect, requestRedirect: { scheme: https } }]', ['routes[0].spec.rules[0].backendRefs: RequestRedirect filter must not be used together with backendRefs (line 11)']],
    ['ReplacePrefixMatch with an Exact match', 'rules:\n- matches: [{ path: { type: Exact, value: /a } }]\n  backendRefs: [{ name: v1 }]\n  filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplacePrefixMatch, replacePrefixMatch: /b } } }]', ['routes[0].spec.rules[0].filters[0].urlRewrite.path.type: ReplacePrefixMatch needs the rule to have exactly one match, of type PathPrefix — expected one PathPrefix match, or ReplaceFullPath (line 13)']],
    ['a Permanent cookie without absoluteTimeout', 'rules:\n- backendRefs: [{ name: v1 }]\n  sessionPersistence: { cookie: { lifetimeType: Permanent } }', ['routes[0].spec.rules[0].sessionPersistence.absoluteTimeout: missing — required when the cookie lifetimeType is Permanent (it becomes the cookie\'s Max-Age) (line 12)']],
    ['two session names', 'rules:\n- backendRefs: [{ name: v1 }]\n  sessionPersistence: { sessionName: a, cookie: { name: b } }', ['routes[0].spec.rules[0].sessionPersistence.sessionName: two different session names ("a", "b") — give it once, as sessionName or as cookie.name (line 12)']],
    ['a duration Gateway API does not allow', 'rules:\n- backendRefs: [{ name: v1 }]\n  timeouts: { request: 1.5s }', ['routes[0].spec.rules[0].timeouts.request: invalid duration "1.5s" — expected a Gateway API duration such as 500ms, 10s or 1h30m (units h, m, s, ms) (line 12)']],
    ['ExternalAuth', 'rules:\n- backendRefs: [{ name: v1 }]\n  filters: [{ type: ExternalAuth, externalAuth: { protocol: HTTP } }]', ['routes[0].spec.rules[0].filters[0].type: filter type ExternalAuth is not supported — Latch does not call external authorisation services, and serving the rule without it would skip the check (line 12)']],
  ])('%s', (_name, route, expected) => {
    expect(problems(config(route))).toEqual(expected)
  })

  it('an Ingress spec beside an HTTPRoute is still reported as an Ingress spec', () => {
    const yaml = config('rules:\n- backendRefs: [{ name: v1 }]') + '  - rules: [{ http: { paths: [{ path: /a, pathType: Prefixx, backend: { service: { name: v1 } } }] } }]\n'
    expect(problems(yaml)).toEqual(['routes[1].rules[0].http.paths[0].pathType: expected one of Exact, Prefix, ImplementationSpecific, got "Prefixx" (did you mean "Prefix"?) (line 12)'])
  })
})
