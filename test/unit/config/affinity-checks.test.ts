/**
 * Cookie pools whose affinity cookies would collide in one browser (same name and domain, overlapping
 * paths, a host in common) are warned about at load; distinct names, paths or hosts are not.
 */
import { describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'

type Cookie = Record<string, unknown>

function warningsFor(pools: readonly [string, Cookie | 'client-ip'][], routes?: unknown): readonly string[] {
  return validateConfig(
    {
      listen: '127.0.0.1:0',
      pools: pools.map(([name, cookie], index) => ({
        name,
        endpoints: [`http://127.0.0.1:${index + 1}`],
        affinity: cookie === 'client-ip' ? { mode: 'client-ip' } : { mode: 'cookie', cookie },
      })),
      routes: routes ?? { rules: [{ http: { paths: pools.map(([name]) => ({ path: `/${name}`, pathType: 'Prefix', backend: { service: { name } } })) } }] },
    },
    { file: 'latch.yaml', baseDir: process.cwd(), env: {} },
  ).warnings
}

describe('affinity cookie collisions', () => {
  it('two cookie pools with the default name and path on the same host are warned about once', () => {
    const warnings = warningsFor([['web', {}], ['api', {}], ['ip', 'client-ip']])
    expect(warnings).toEqual(['pools "web" and "api" both use the affinity cookie "latch" (Path=/) on the same host: a browser keeps one such cookie, so a client of both loses its session at each switch — give each pool its own affinity.cookie.name'])
  })

  it('nested paths collide (the browser sends both cookies); sibling paths do not', () => {
    expect(warningsFor([['web', { path: '/shop' }], ['api', { path: '/shop/api' }]])).toHaveLength(1)
    expect(warningsFor([['web', { path: '/shop' }], ['api', { path: '/shopping' }]])).toEqual([])
    expect(warningsFor([['web', { path: '/shop/' }], ['api', { path: '/api' }]])).toEqual([])
  })

  it('distinct names, or pools only reachable through different hosts, do not collide', () => {
    expect(warningsFor([['web', { name: 'web' }], ['api', { name: 'api' }]])).toEqual([])
    const byHost = {
      rules: [
        { host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } }] } },
        { host: 'b.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api' } } }] } },
      ],
    }
    expect(warningsFor([['web', {}], ['api', {}]], byHost)).toEqual([])
  })

  it('a shared Domain makes pools on different hosts collide', () => {
    const byHost = {
      rules: [
        { host: 'a.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } }] } },
        { host: 'b.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'api' } } }] } },
      ],
    }
    const warnings = warningsFor([['web', { domain: 'example.com' }], ['api', { domain: 'example.com' }]], byHost)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('Domain=example.com')
  })
})
