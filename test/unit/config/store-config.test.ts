/**
 * `store` in the config: memory by default; redis with a URL (redis:// or rediss://, credentials,
 * database), Sentinel or Cluster; `${REDIS_URL}` from the environment; every mistake named with its
 * key path and what is expected. A reload that changes `store` is described precisely.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfigFile } from '../../../src/config/load.js'
import { configProblems } from '../../helpers/config-problems.js'
import { storeChangeOf } from '../../../src/lifecycle/reload-candidate.js'

const dir = mkdtempSync(join(tmpdir(), 'latch-store-config-'))
let n = 0

function write(store: unknown): string {
  const file = join(dir, `config-${++n}.yaml`)
  writeFileSync(file, stringify({ pools: [{ name: 'web', endpoints: ['http://127.0.0.1:1'] }], ...(store === undefined ? {} : { store }) }))
  return file
}

function load(store: unknown, env: NodeJS.ProcessEnv = {}) {
  return loadConfigFile(write(store), env).config.store
}

function problems(store: unknown): string[] {
  return configProblems(write(store))
}

describe('store config', () => {
  it('defaults to the memory store, bounded at 100,000 entries; maxEntries applies to both types', () => {
    expect(load(undefined)).toMatchObject({ type: 'memory', maxEntries: 100_000 })
    expect(load({ maxEntries: 1000 })).toMatchObject({ type: 'memory', maxEntries: 1000 })
    expect(load({ type: 'redis', url: 'redis://redis:6379', maxEntries: 5000 })).toMatchObject({ type: 'redis', maxEntries: 5000 })
  })

  it('takes a redis URL with defaults for the fault settings', () => {
    expect(load({ type: 'redis', url: 'redis://redis:6379' })).toMatchObject({
      type: 'redis',
      url: 'redis://redis:6379',
      keyPrefix: 'latch:',
      commandTimeout: 75,
      failClosed: false,
      circuitBreaker: { failures: 3, probeInterval: 500 },
      localCache: { ttl: 10_000, maxEntries: 100_000 },
      reconnect: { minDelay: 50, maxDelay: 2000 },
    })
  })

  it('reads the URL and password from the environment', () => {
    const store = load({ type: 'redis', url: '${REDIS_URL}', password: '${REDIS_PASSWORD}' }, { REDIS_URL: 'rediss://app@redis.example:6380/2', REDIS_PASSWORD: 's3cret' })
    expect(store).toMatchObject({ url: 'rediss://app@redis.example:6380/2', password: 's3cret' })
  })

  it('takes Sentinel and Cluster settings', () => {
    expect(load({ type: 'redis', sentinels: ['10.0.0.1:26379', 'sentinel-b:26379'], name: 'mymaster', db: 1 })).toMatchObject({ sentinels: ['10.0.0.1:26379', 'sentinel-b:26379'], name: 'mymaster', db: 1 })
    expect(load({ type: 'redis', cluster: ['10.0.0.1:7000', '10.0.0.2:7000'], commandTimeout: '100ms', failClosed: true })).toMatchObject({ cluster: ['10.0.0.1:7000', '10.0.0.2:7000'], commandTimeout: 100, failClosed: true })
  })

  it('names every mistake with its key path and what is expected', () => {
    expect(problems({ type: 'redis' })).toEqual(['store.url: missing — type: redis expects url (redis://host:6379), sentinels with name, or cluster'])
    expect(problems({ type: 'redis', url: 'http://redis:6379' })).toEqual(['store.url: unsupported scheme "http" — expected redis://[user:password@]host[:port][/db] or rediss://… for TLS'])
    expect(problems({ type: 'redis', url: 'redis://redis:6379', cluster: ['a:7000'] })).toEqual(['store.cluster: not with url — expected exactly one of url, sentinels or cluster'])
    expect(problems({ type: 'redis', sentinels: ['s:26379'] })).toEqual(['store.name: required with sentinels — expected the master name the Sentinels monitor, e.g. mymaster'])
    expect(problems({ type: 'redis', sentinels: ['s'], name: 'm' })[0]).toMatch(/^store\.sentinels\[0\]: invalid address "s" — expected the host:port of a Sentinel/)
    expect(problems({ type: 'memory', url: 'redis://redis:6379' })).toEqual(['store.url: only used with type: redis — set type: redis or remove it'])
    expect(problems({ type: 'etcd' })[0]).toMatch(/^store\.type: expected memory or redis/)
    expect(problems({ type: 'redis', url: 'redis://r:6379', commandTimeout: 'soon' })[0]).toMatch(/^store\.commandTimeout: invalid duration "soon"/)
    expect(problems({ maxEntries: 10 })).toEqual(['store.maxEntries: expected a whole number from 100 to 100000000, got 10'])
    expect(problems({ maxEntries: 'lots' })).toEqual(['store.maxEntries: expected a whole number from 100 to 100000000, got "lots"'])
  })

  it('never shows a password from the URL in a message', () => {
    expect(problems({ type: 'redis', url: 'redis://user:hunter2@redis:6379/x' }).join('\n')).not.toContain('hunter2')
  })

  it('describes a store change on reload (which is refused) without naming secrets', () => {
    const before = load({ type: 'redis', url: 'redis://a:6379', password: 'one' })
    expect(storeChangeOf(before, load({ type: 'redis', url: 'redis://a:6379', password: 'one' }))).toBeUndefined()
    expect(storeChangeOf(before, load({ type: 'redis', url: 'redis://b:6379', password: 'two' }))).toBe('url, password changed')
    expect(storeChangeOf(before, load(undefined))).toBe('type changed from redis to memory')
  })
})
