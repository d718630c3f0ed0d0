import { afterEach, describe, expect, it } from 'vitest'
import { SecretRing } from '../../../src/affinity/secret-ring.js'
import { validateConfig } from '../../../src/config/load.js'
import { newTrafficState } from '../../../src/lifecycle/traffic-state.js'
import { AccessLog } from '../../../src/observability/access-log.js'
import { createLogger } from '../../../src/observability/logger.js'
import { buildRuntime, closeRuntime, retireReplaced, type ProxyRuntime, type RuntimeServices } from '../../../src/proxying/runtime.js'
import { MemoryAffinityStore } from '../../../src/stores/memory-store.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'

const A = 'http://127.0.0.1:1'
const B = 'http://127.0.0.1:2'
const C = 'http://127.0.0.1:3'

function load(pools: object[], routes?: object): ReturnType<typeof validateConfig> {
  return validateConfig({ listen: '127.0.0.1:0', pools, ...(routes === undefined ? {} : { routes }) }, { file: 'reload.yaml', baseDir: '.' })
}

function services(): RuntimeServices {
  return { accessLog: new AccessLog('off'), logger: createLogger('silent'), ring: new SecretRing(['a-secret-that-is-long-enough-000']), store: new MemoryAffinityStore(), traffic: newTrafficState() }
}

function endpointOf(runtime: ProxyRuntime, pool: string, url: string): Endpoint {
  const found = runtime.pools.get(pool)?.endpoint(new URL(url).host)
  if (found === undefined) throw new Error(`no endpoint ${url} in ${pool}`)
  return found
}

const routes = (path: string): object => ({ rules: [{ http: { paths: [{ path, pathType: 'Prefix', backend: { service: { name: 'web' } } }, { path: '/', pathType: 'Prefix', backend: { service: { name: 'api' } } }] } }] })

describe('buildRuntime on reload', () => {
  const runtimes: ProxyRuntime[] = []
  afterEach(async () => {
    await Promise.all(runtimes.splice(0).map((runtime) => closeRuntime(runtime)))
  })

  it('keeps an unchanged pool (same object, endpoints, ejections, admin state) when only routes change', () => {
    const shared = services()
    const pools = [{ name: 'web', endpoints: [A, B] }, { name: 'api', endpoints: [C] }]
    const first = buildRuntime(load(pools, routes('/web')), shared)
    const ejected = endpointOf(first, 'web', A)
    ejected.setEjectedUntil(Date.now() + 60_000, 'test')
    endpointOf(first, 'web', B).setAdminState('draining')
    const second = buildRuntime(load(pools, routes('/site')), shared, first)
    runtimes.push(second)
    retireReplaced(first, second)
    expect(second.pools.get('web')).toBe(first.pools.get('web'))
    expect(second.pools.get('api')).toBe(first.pools.get('api'))
    expect(endpointOf(second, 'web', A)).toBe(ejected)
    expect(endpointOf(second, 'web', A).ejectedUntil).toBeGreaterThan(Date.now())
    expect(endpointOf(second, 'web', B).adminState).toBe('draining')
    expect(second.router).not.toBe(first.router)
  })

  it('syncs the endpoint list of a kept pool: kept endpoints keep their state, removed ones drain, new ones join', () => {
    const shared = services()
    const first = buildRuntime(load([{ name: 'web', endpoints: [A, B], drainTimeout: '5s' }]), shared)
    const kept = endpointOf(first, 'web', A)
    kept.total = 42
    const removed = endpointOf(first, 'web', B)
    const second = buildRuntime(load([{ name: 'web', endpoints: [A, C], drainTimeout: '5s' }]), shared, first)
    runtimes.push(second)
    retireReplaced(first, second)
    expect(second.pools.get('web')).toBe(first.pools.get('web'))
    expect(endpointOf(second, 'web', A)).toBe(kept)
    expect(kept.total).toBe(42)
    expect(removed.state).toBe('draining')
    expect(endpointOf(second, 'web', C).state).not.toBe('draining')
  })

  it('rebuilds a pool whose settings changed, adopting endpoints whose connection settings did not change', () => {
    const shared = services()
    const first = buildRuntime(load([{ name: 'web', endpoints: [A, B] }]), shared)
    const kept = endpointOf(first, 'web', A)
    kept.setAdminState('maintenance')
    const second = buildRuntime(load([{ name: 'web', endpoints: [A, B], balance: 'least-request' }]), shared, first)
    runtimes.push(second)
    retireReplaced(first, second)
    expect(second.pools.get('web')).not.toBe(first.pools.get('web'))
    expect(endpointOf(second, 'web', A).dispatcher).toBe(kept.dispatcher)
    expect(endpointOf(second, 'web', A).adminState).toBe('maintenance')
  })
})
