/**
 * An Ingress manifest with ingress-nginx sticky-session annotations, served by the real CLI: the pool
 * it routes to gets cookie affinity named `INGRESSCOOKIE` (or the annotated name) with the annotated
 * attributes, `upstream-hash-by` hashes, and unsupported annotations are named in a warning at start
 * and by `latch check`.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { send } from '../helpers/http-client.js'
import { runCli, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const P = 'nginx.ingress.kubernetes.io/'

let upstreams: TestUpstream[]
let latch: LatchProcess
let configFile: string

const shop = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: {
    name: 'shop',
    annotations: {
      [`${P}affinity`]: 'cookie',
      [`${P}affinity-mode`]: 'persistent',
      [`${P}session-cookie-max-age`]: '172800',
      [`${P}session-cookie-samesite`]: 'Strict',
      [`${P}proxy-body-size`]: '8m',
      [`${P}ssl-redirect`]: 'false',
      'kubernetes.io/ingress.class': 'nginx',
    },
  },
  spec: { rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/shop', pathType: 'Prefix', backend: { service: { name: 'shop', port: { number: 80 } } } }] } }] },
}

const cache = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'cache', annotations: { [`${P}upstream-hash-by`]: '$http_x_tenant' } },
  spec: { rules: [{ host: 'cache.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'cache', port: { number: 80 } } } }] } }] },
}

beforeAll(async () => {
  upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startUpstream(name)))
  const dir = mkdtempSync(join(tmpdir(), 'latch-ingress-'))
  writeFileSync(join(dir, 'ingress.yaml'), [shop, cache].map((doc) => stringify(doc)).join('---\n'))
  const urls = upstreams.map((upstream) => upstream.url)
  configFile = join(dir, 'latch.yaml')
  writeFileSync(configFile, stringify({
    listen: '127.0.0.1:0',
    admin: { listen: false },
    log: { level: 'info', access: 'off' },
    shutdown: { drainDelay: '0s', drainTimeout: '3s' },
    sessionSecrets: ['ingress-test-secret-0123456789ab'],
    pools: [{ name: 'shop', endpoints: urls }, { name: 'cache', endpoints: urls }],
    routes: 'ingress.yaml',
  }))
  latch = await startLatch({ args: ['--config', configFile] })
})

afterAll(async () => {
  await latch.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
})

describe('Ingress manifests with ingress-nginx affinity annotations', () => {
  it('the annotated Ingress gives its pool cookie affinity: INGRESSCOOKIE, the routed path, the annotated lifetime and SameSite', async () => {
    const first = await send({ port: latch.port, path: '/shop/cart', headers: { host: 'shop.example.com' } })
    const line = (first.headers['set-cookie'] ?? [])[0] as string
    expect(line).toMatch(/^INGRESSCOOKIE=[A-Za-z0-9_-]{58}; /)
    const attributes = line.split('; ').slice(1).sort()
    expect(attributes).toEqual(['HttpOnly', 'Max-Age=172800', 'Path=/shop', 'SameSite=Strict'])
    const cookie = line.split(';')[0] as string
    for (let i = 0; i < 4; i++) {
      const again = await send({ port: latch.port, path: '/shop/cart', headers: { host: 'shop.example.com', cookie } })
      expect(again.headers['x-upstream']).toBe(first.headers['x-upstream'])
      expect(again.headers['set-cookie']).toBeUndefined()
    }
  })

  it('upstream-hash-by: $http_x_tenant keeps a tenant on one endpoint and spreads tenants', async () => {
    const chosen = new Map<string, Set<string>>()
    for (const tenant of ['acme', 'globex', 'initech', 'umbrella', 'hooli', 'stark']) {
      const seen = new Set<string>()
      for (let i = 0; i < 3; i++) seen.add(String((await send({ port: latch.port, path: '/', headers: { host: 'cache.example.com', 'x-tenant': tenant } })).headers['x-upstream']))
      chosen.set(tenant, seen)
    }
    for (const seen of chosen.values()) expect(seen.size).toBe(1)
    expect(new Set([...chosen.values()].map((seen) => [...seen][0])).size).toBeGreaterThan(1)
  })

  it('unsupported nginx annotations are named in a warning at start and by latch check; other prefixes are not', async () => {
    const expected = `ingress.yaml (Ingress shop): unsupported annotations ignored: ${P}proxy-body-size, ${P}ssl-redirect`
    const warning = latch.logs.find((line) => typeof line.msg === 'string' && line.msg.includes('unsupported annotations'))
    expect(warning?.msg).toContain(expected)
    expect(warning?.msg).not.toContain('kubernetes.io/ingress.class')
    const check = await runCli(['check', '--config', configFile])
    expect(check.code).toBe(0)
    expect(check.stdout).toContain(`warning: ${expected}`)
  })
})
