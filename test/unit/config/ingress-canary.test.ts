/**
 * A canary Ingress (ingress-nginx `canary: "true"`) merges into the rule of the main Ingress with the
 * same host and path: one action, backends [main, canary] with the canary's weights and conditions;
 * mistakes are warnings naming the Ingress, never a silent ignore.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { validateConfig, type LoadedConfig } from '../../../src/config/load.js'
import type { RouteAction } from '../../../src/routing/route-action.js'

const P = 'nginx.ingress.kubernetes.io/'

function ingress(name: string, pool: string, annotations: Record<string, string>, path = '/app', host = 'shop.example.com'): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, annotations },
    spec: { rules: [{ host, http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: pool, port: { number: 80 } } } }] } }] },
  }
}

function load(docs: readonly object[]): LoadedConfig {
  const dir = mkdtempSync(join(tmpdir(), 'latch-canary-unit-'))
  writeFileSync(join(dir, 'ingress.yaml'), docs.map((doc) => stringify(doc)).join('---\n'))
  const pools = ['main', 'canary', 'other'].map((name) => ({ name, endpoints: ['http://127.0.0.1:1'] }))
  return validateConfig({ pools, routes: 'ingress.yaml' }, { file: join(dir, 'latch.yaml'), baseDir: dir })
}

function actionOf(loaded: LoadedConfig, host = 'shop.example.com'): RouteAction {
  return loaded.routes.exactHosts.get(host)?.rules[0]?.action as RouteAction
}

describe('ingress-nginx canary Ingresses', () => {
  it('merge into the main rule: weights total − N and N, conditions, the main rule id', () => {
    const loaded = load([
      ingress('shop', 'main', {}),
      ingress('shop-canary', 'canary', { [`${P}canary`]: 'true', [`${P}canary-weight`]: '3', [`${P}canary-weight-total`]: '20', [`${P}canary-by-header`]: 'X-Beta', [`${P}canary-by-header-value`]: 'yes', [`${P}canary-by-cookie`]: 'beta' }),
    ])
    const action = actionOf(loaded)
    expect(action.id).toBe('shop.example.com /app Prefix')
    expect(action.backends.map((backend) => [backend.pool, backend.weight])).toEqual([['main', 17], ['canary', 3]])
    expect(action.canary).toEqual({ header: 'x-beta', headerValue: 'yes', headerPattern: undefined, cookie: 'beta', affinityBehavior: 'sticky' })
    expect(loaded.warnings).toEqual([])
  })

  it('a canary Ingress without affinity annotations takes its main Ingress’s cookie (sticky canary), without a collision warning', () => {
    const loaded = load([ingress('shop', 'main', { [`${P}affinity`]: 'cookie' }), ingress('shop-canary', 'canary', { [`${P}canary`]: 'true', [`${P}canary-weight`]: '10' })])
    const affinity = (name: string) => loaded.config.pools.find((pool) => pool.name === name)?.affinity
    expect([affinity('main')?.mode, affinity('canary')?.mode, affinity('canary')?.cookie.name]).toEqual(['cookie', 'cookie', 'INGRESSCOOKIE'])
    expect(loaded.warnings).toEqual([])
  })

  it('affinity-canary-behavior: legacy may sit on the main Ingress; the canary’s own wins', () => {
    const onMain = load([ingress('shop', 'main', { [`${P}affinity-canary-behavior`]: 'legacy' }), ingress('c', 'canary', { [`${P}canary`]: 'true' })])
    expect(actionOf(onMain).canary?.affinityBehavior).toBe('legacy')
    const both = load([ingress('shop', 'main', { [`${P}affinity-canary-behavior`]: 'legacy' }), ingress('c', 'canary', { [`${P}canary`]: 'true', [`${P}affinity-canary-behavior`]: 'sticky' })])
    expect(actionOf(both).canary?.affinityBehavior).toBe('sticky')
  })

  it('warns about a canary without a main Ingress, a second canary, a weight above the total and a pattern beside a value', () => {
    const loaded = load([
      ingress('shop', 'main', {}),
      ingress('c1', 'canary', { [`${P}canary`]: 'true', [`${P}canary-weight`]: '150', [`${P}canary-by-header`]: 'X-A', [`${P}canary-by-header-value`]: 'a', [`${P}canary-by-header-pattern`]: 'b' }),
      ingress('c2', 'other', { [`${P}canary`]: 'true' }),
      ingress('lonely', 'other', { [`${P}canary`]: 'true' }, '/nowhere'),
    ])
    expect(actionOf(loaded).backends.map((backend) => [backend.pool, backend.weight])).toEqual([['main', 0], ['canary', 100]])
    const text = loaded.warnings.join('\n')
    expect(text).toMatch(/Ingress c1\): .*canary-weight: 150 is above canary-weight-total \(100\)/)
    expect(text).toMatch(/Ingress c1\): .*canary-by-header-pattern is ignored: canary-by-header-value is set/)
    expect(text).toMatch(/Ingress c2\): host "shop.example.com" path "\/app" already has a canary \(canary\)/)
    expect(text).toMatch(/Ingress lonely\): canary path "\/nowhere" \(Prefix\) for host "shop.example.com" has no main Ingress/)
  })
})
