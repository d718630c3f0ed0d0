/**
 * ingress-nginx session annotations on Ingress manifests map to pool affinity with ingress-nginx's
 * defaults; unsupported annotations and values are named in warnings; a pool's own affinity wins.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { affinityFromAnnotations, hashKey, INGRESS_COOKIE } from '../../../src/config/ingress-annotations.js'
import { validateConfig, type LoadedConfig } from '../../../src/config/load.js'
import type { AffinityConfig } from '../../../src/config/affinity-schema.js'

const P = 'nginx.ingress.kubernetes.io/'

interface IngressInput {
  readonly name: string
  readonly annotations: Record<string, string>
  readonly paths?: readonly { path?: string; pathType: string; pool: string }[]
  readonly defaultBackend?: string
}

function manifest(ingress: IngressInput): object {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: ingress.name, annotations: ingress.annotations },
    spec: {
      ...(ingress.defaultBackend === undefined ? {} : { defaultBackend: { service: { name: ingress.defaultBackend, port: { number: 80 } } } }),
      ...(ingress.paths === undefined ? {} : { rules: [{ host: `${ingress.name}.example.com`, http: { paths: ingress.paths.map((entry) => ({ ...(entry.path === undefined ? {} : { path: entry.path }), pathType: entry.pathType, backend: { service: { name: entry.pool, port: { number: 80 } } } })) } }] }),
    },
  }
}

/** Loads a config whose routes are manifest files, one per Ingress; pools `web`, `api`, `cache` unless given. */
function load(ingresses: readonly IngressInput[], pools: readonly Record<string, unknown>[] = [{ name: 'web' }, { name: 'api' }, { name: 'cache' }]): LoadedConfig {
  const dir = mkdtempSync(join(tmpdir(), 'latch-annotations-'))
  const files = ingresses.map((ingress, index) => {
    const file = join(dir, `ingress-${index}.yaml`)
    writeFileSync(file, stringify(manifest(ingress)))
    return file
  })
  return validateConfig(
    { listen: '127.0.0.1:0', pools: pools.map((pool, index) => ({ endpoints: [`http://127.0.0.1:${index + 1}`], ...pool })), routes: files },
    { file: join(dir, 'latch.yaml'), baseDir: dir, env: {} },
  )
}

function affinityOf(loaded: LoadedConfig, pool: string): AffinityConfig {
  const found = loaded.config.pools.find((candidate) => candidate.name === pool)
  if (found === undefined) throw new Error(`no pool ${pool}`)
  return found.affinity
}

describe('ingress-nginx affinity annotations', () => {
  it('affinity: cookie alone gives cookie affinity with ingress-nginx defaults: INGRESSCOOKIE, the routed path, a session cookie', () => {
    const loaded = load([{ name: 'shop', annotations: { [`${P}affinity`]: 'cookie' }, paths: [{ path: '/shop', pathType: 'Prefix', pool: 'web' }] }])
    const affinity = affinityOf(loaded, 'web')
    expect(affinity.mode).toBe('cookie')
    expect(affinity.onUnavailable).toBe('rebind')
    expect(affinity.cookie).toMatchObject({ name: INGRESS_COOKIE, path: '/shop', secure: 'auto', httpOnly: true, sameSite: 'Lax' })
    expect(affinity.cookie.maxAge).toBeUndefined()
    expect(affinity.cookie.idleTimeout).toBeUndefined()
    expect(affinity.cookie.domain).toBeUndefined()
    expect(affinityOf(loaded, 'api').mode).toBe('none')
    expect(loaded.warnings).toEqual([])
  })

  it('maps every supported session-cookie annotation', () => {
    const loaded = load([{
      name: 'shop',
      annotations: {
        [`${P}affinity`]: 'cookie',
        [`${P}affinity-mode`]: 'persistent',
        [`${P}session-cookie-name`]: 'route',
        [`${P}session-cookie-path`]: '/app',
        [`${P}session-cookie-domain`]: 'example.com',
        [`${P}session-cookie-max-age`]: '172800',
        [`${P}session-cookie-expires`]: '3600',
        [`${P}session-cookie-samesite`]: 'none',
        [`${P}session-cookie-secure`]: 'true',
        [`${P}session-cookie-change-on-failure`]: 'true',
      },
      paths: [{ path: '/', pathType: 'Prefix', pool: 'web' }],
    }])
    const affinity = affinityOf(loaded, 'web')
    expect(affinity.mode).toBe('cookie')
    expect(affinity.onUnavailable).toBe('rebind')
    expect(affinity.cookie).toMatchObject({ name: 'route', path: '/app', domain: 'example.com', maxAge: 172_800_000, sameSite: 'None', secure: 'always' })
    expect(loaded.warnings).toEqual([])
  })

  it('session-cookie-expires alone sets the lifetime; session-cookie-secure: false leaves Secure to the request', () => {
    const loaded = load([{ name: 'shop', annotations: { [`${P}affinity`]: 'cookie', [`${P}session-cookie-expires`]: '600', [`${P}session-cookie-secure`]: 'false' }, defaultBackend: 'web' }])
    expect(affinityOf(loaded, 'web').cookie).toMatchObject({ maxAge: 600_000, secure: 'auto', path: '/' })
  })

  it('the cookie path is / when several paths, or a regular expression, route to the pool', () => {
    const several = load([{ name: 'a', annotations: { [`${P}affinity`]: 'cookie' }, paths: [{ path: '/x', pathType: 'Prefix', pool: 'web' }, { path: '/y', pathType: 'Prefix', pool: 'web' }] }])
    expect(affinityOf(several, 'web').cookie.path).toBe('/')
    const regex = load([{ name: 'b', annotations: { [`${P}affinity`]: 'cookie' }, paths: [{ path: '/v[12]/', pathType: 'ImplementationSpecific', pool: 'web' }] }])
    expect(affinityOf(regex, 'web').cookie.path).toBe('/')
  })

  it('applies to every pool the Ingress routes to, and to no other', () => {
    const loaded = load([{ name: 'shop', annotations: { [`${P}affinity`]: 'cookie' }, paths: [{ path: '/', pathType: 'Prefix', pool: 'web' }, { path: '/api', pathType: 'Exact', pool: 'api' }] }])
    expect(affinityOf(loaded, 'web').cookie.path).toBe('/')
    expect(affinityOf(loaded, 'api').cookie.path).toBe('/api')
    expect(affinityOf(loaded, 'cache').mode).toBe('none')
  })

  it.each([
    ['$remote_addr', 'client-ip'],
    ['$binary_remote_addr', 'client-ip'],
    ['$request_uri', 'path'],
    ['$uri', 'path'],
    ['$cookie_tenant', 'cookie:tenant'],
    ['$http_x_tenant_id', 'header:x-tenant-id'],
    ['$arg_shard', 'query:shard'],
  ])('upstream-hash-by: %s hashes on %s', (variable, key) => {
    expect(hashKey(variable)).toBe(key)
    const loaded = load([{ name: 'cache', annotations: { [`${P}upstream-hash-by`]: variable }, paths: [{ path: '/', pathType: 'Prefix', pool: 'cache' }] }])
    const affinity = affinityOf(loaded, 'cache')
    expect(affinity.mode).toBe('hash')
    expect(affinity.hash.key).toBe(key)
    expect(loaded.warnings).toEqual([])
  })

  it('an upstream-hash-by Latch cannot hash on is warned about and ignored', () => {
    const loaded = load([{ name: 'cache', annotations: { [`${P}upstream-hash-by`]: '$remote_addr$request_uri' }, paths: [{ path: '/', pathType: 'Prefix', pool: 'cache' }] }])
    expect(affinityOf(loaded, 'cache').mode).toBe('none')
    expect(loaded.warnings).toHaveLength(1)
    expect(loaded.warnings[0]).toContain('upstream-hash-by: "$remote_addr$request_uri" is not supported')
  })

  it('affinity: cookie wins over upstream-hash-by, with a warning', () => {
    const loaded = load([{ name: 'shop', annotations: { [`${P}affinity`]: 'cookie', [`${P}upstream-hash-by`]: '$remote_addr' }, defaultBackend: 'web' }])
    expect(affinityOf(loaded, 'web').mode).toBe('cookie')
    expect(loaded.warnings.join('\n')).toContain('upstream-hash-by is ignored')
  })

  it('unsupported annotations are named in one warning; other prefixes are left alone', () => {
    const loaded = load([{
      name: 'shop',
      annotations: {
        [`${P}affinity`]: 'cookie',
        [`${P}affinity-canary-behavior`]: 'legacy',
        [`${P}session-cookie-conditional-samesite-none`]: 'true',
        [`${P}proxy-body-size`]: '8m',
        'kubernetes.io/ingress.class': 'nginx',
        'cert-manager.io/cluster-issuer': 'letsencrypt',
      },
      defaultBackend: 'web',
    }])
    expect(affinityOf(loaded, 'web').mode).toBe('cookie')
    expect(loaded.warnings).toEqual([
      `ingress-0.yaml (Ingress shop): unsupported annotations ignored: ${P}proxy-body-size, ${P}session-cookie-conditional-samesite-none`,
    ].map((warning) => expect.stringContaining(warning.slice('ingress-0.yaml'.length))))
  })

  it('invalid values are named and ignored, the rest applies', () => {
    const read = affinityFromAnnotations({
      [`${P}affinity`]: 'cookie',
      [`${P}affinity-mode`]: 'sticky',
      [`${P}session-cookie-max-age`]: '-1',
      [`${P}session-cookie-samesite`]: 'Sometimes',
      [`${P}session-cookie-secure`]: 'yes',
    }, undefined)
    expect(read.affinity).toEqual({ mode: 'cookie', cookie: { name: INGRESS_COOKIE, path: '/' }, onUnavailable: 'rebind' })
    expect(read.warnings).toHaveLength(4)
    expect(read.warnings.join('\n')).toMatch(/affinity-mode: "sticky"[\s\S]*max-age: "-1"[\s\S]*samesite: "Sometimes"[\s\S]*secure: "yes"/)
  })

  it('affinity values other than cookie, and cookie annotations without affinity, are warned about', () => {
    const other = affinityFromAnnotations({ [`${P}affinity`]: 'ip' }, '/')
    expect(other.affinity).toBeUndefined()
    expect(other.warnings[0]).toContain('affinity: "ip" is not supported')
    const orphan = affinityFromAnnotations({ [`${P}session-cookie-name`]: 'x' }, '/')
    expect(orphan.affinity).toBeUndefined()
    expect(orphan.warnings[0]).toContain('session-cookie-name ignored without')
  })

  it('session-cookie-change-on-failure: "false" warns that Latch rebinds (no exact equivalent)', () => {
    const read = affinityFromAnnotations({ [`${P}affinity`]: 'cookie', [`${P}session-cookie-change-on-failure`]: 'false' }, '/')
    expect(read.affinity?.onUnavailable).toBe('rebind')
    expect(read.warnings[0]).toContain('onUnavailable: fail')
  })

  it('a pool\'s own affinity in the config wins over annotations, with a warning', () => {
    const loaded = load(
      [{ name: 'shop', annotations: { [`${P}affinity`]: 'cookie', [`${P}session-cookie-name`]: 'route' }, defaultBackend: 'web' }],
      [{ name: 'web', affinity: { mode: 'client-ip' } }, { name: 'api' }, { name: 'cache' }],
    )
    expect(affinityOf(loaded, 'web').mode).toBe('client-ip')
    expect(loaded.warnings).toEqual([expect.stringContaining('pool "web" sets its own affinity in the config, which wins over the Ingress annotations')])
  })

  it('the first Ingress that sets a pool\'s affinity wins over later ones, with a warning', () => {
    const loaded = load([
      { name: 'first', annotations: { [`${P}affinity`]: 'cookie', [`${P}session-cookie-name`]: 'one' }, paths: [{ path: '/', pathType: 'Prefix', pool: 'web' }] },
      { name: 'second', annotations: { [`${P}affinity`]: 'cookie', [`${P}session-cookie-name`]: 'two' }, paths: [{ path: '/', pathType: 'Prefix', pool: 'web' }] },
    ])
    expect(affinityOf(loaded, 'web').cookie.name).toBe('one')
    expect(loaded.warnings).toEqual([expect.stringContaining('(Ingress second): pool "web" already takes its affinity from the annotations of')])
  })

  it('a cookie name the annotations give that is not a valid cookie name is refused with a warning', () => {
    const loaded = load([{ name: 'shop', annotations: { [`${P}affinity`]: 'cookie', [`${P}session-cookie-name`]: 'bad name' }, defaultBackend: 'web' }])
    expect(affinityOf(loaded, 'web').mode).toBe('none')
    expect(loaded.warnings.join('\n')).toContain('an affinity Latch cannot use')
  })
})
