/**
 * A pool's `sessionPersistence` (GEP-1619, both generations of field names) maps onto the pool's own
 * affinity at config load; a pool giving both `affinity` and `sessionPersistence` is a config error.
 */
import { describe, expect, it } from 'vitest'
import { poolTokenSettings } from '../../../src/affinity/token-affinity.js'
import { validateConfig } from '../../../src/config/load.js'
import { poolCookieMaxAge } from '../../../src/config/pool-session-persistence.js'
import type { PoolConfig } from '../../../src/config/schema.js'
import { ConfigError } from '../../../src/errors/config-error.js'
import type { PoolView } from '../../../src/upstream/pool-view.js'

function pool(fields: object): PoolConfig {
  const loaded = validateConfig({ pools: [{ name: 'web', endpoints: ['http://127.0.0.1:1'], ...fields }] }, { file: 'latch.yaml', baseDir: '.' })
  return loaded.config.pools[0] as PoolConfig
}

function problems(fields: object): string[] {
  try {
    pool(fields)
    return []
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`)
  }
}

const VIEW: PoolView = { name: 'web', generation: 0, endpoints: [], usableEndpoints: [], endpoint: () => undefined }

describe('pools[].sessionPersistence', () => {
  it('released field names: Cookie, sessionName, absoluteTimeout, idleTimeout, cookieConfig.lifetimeType Permanent', () => {
    const config = pool({ sessionPersistence: { type: 'Cookie', sessionName: 'shop', absoluteTimeout: '1h', idleTimeout: '10m', cookieConfig: { lifetimeType: 'Permanent' } } })
    expect(config.affinity.mode).toBe('cookie')
    expect(config.affinity.cookie).toMatchObject({ name: 'shop', maxAge: 3_600_000, idleTimeout: 600_000, path: '/', httpOnly: true, sameSite: 'Lax' })
    expect(config.affinity.onUnavailable).toBe('rebind')
    // Permanent: Max-Age = what is left of absoluteTimeout, not capped by idleTimeout as pool affinity does.
    expect(poolCookieMaxAge(config.sessionPersistence)).toBe('absolute')
    const settings = poolTokenSettings('cookie', VIEW, config.affinity, poolCookieMaxAge(config.sessionPersistence))
    expect(settings).toMatchObject({ name: 'shop', maxAgeMs: 3_600_000, idleMs: 600_000, cookieMaxAge: 'absolute', countScope: 'web:cookie' })
  })

  it('newer field names: cookie.name, cookie.path, cookie.lifetimeType; Session cookies carry no Max-Age', () => {
    const config = pool({ sessionPersistence: { cookie: { name: 'cart', path: '/shop', lifetimeType: 'Session' }, absoluteTimeout: '2h' } })
    expect(config.affinity.mode).toBe('cookie')
    expect(config.affinity.cookie).toMatchObject({ name: 'cart', path: '/shop', maxAge: 7_200_000 })
    expect(config.affinity.cookie.idleTimeout).toBeUndefined()
    expect(poolCookieMaxAge(config.sessionPersistence)).toBe('none')
  })

  it('type Header with header.name (newer) or sessionName (released)', () => {
    const newer = pool({ sessionPersistence: { type: 'Header', header: { name: 'X-Session' }, idleTimeout: '5m' } })
    expect(newer.affinity.mode).toBe('header')
    expect(newer.affinity.header).toMatchObject({ name: 'X-Session', idleTimeout: 300_000 })
    expect(pool({ sessionPersistence: { type: 'Header', sessionName: 'x-token' } }).affinity.header.name).toBe('x-token')
  })

  it('without a name, the affinity defaults (latch, x-latch-session); without either key, mode none and the usual Max-Age rule', () => {
    expect(pool({ sessionPersistence: {} }).affinity.cookie.name).toBe('latch')
    expect(pool({ sessionPersistence: { type: 'Header' } }).affinity.header.name).toBe('x-latch-session')
    const plain = pool({})
    expect(plain.affinity.mode).toBe('none')
    expect(poolCookieMaxAge(plain.sessionPersistence)).toBe('lifetimes')
    expect(pool({ affinity: { mode: 'cookie' } }).affinity.mode).toBe('cookie')
  })

  it('refuses a pool with both affinity and sessionPersistence, naming both keys', () => {
    expect(problems({ affinity: { mode: 'cookie' }, sessionPersistence: { type: 'Cookie' } })).toEqual([
      'pools[0].sessionPersistence: both affinity and sessionPersistence are set — a pool takes its sticky sessions from one of them (sessionPersistence maps onto affinity); remove one of the two keys',
    ])
  })

  it('reuses the HTTPRoute schema piece: its mistakes, and what a cookie name and path must be', () => {
    expect(problems({ sessionPersistence: { type: 'Cookie', cookieConfig: { lifetimeType: 'Permanent' } } })).toEqual([
      "pools[0].sessionPersistence.absoluteTimeout: missing — required when the cookie lifetimeType is Permanent (it becomes the cookie's Max-Age)",
    ])
    expect(problems({ sessionPersistence: { type: 'Header', cookie: { name: 'x' } } })).toEqual(['pools[0].sessionPersistence.cookie: not allowed when type is Header — cookie is for type Cookie'])
    expect(problems({ sessionPersistence: { sessionName: 'my session' } })).toEqual([
      'pools[0].sessionPersistence.sessionName: "my session" is not a cookie name — expected letters, digits and !#$%&\'*+-.^_`|~',
    ])
    expect(problems({ sessionPersistence: { cookie: { path: 'shop' } } })).toEqual(['pools[0].sessionPersistence.cookie.path: expected a path starting with "/"'])
  })
})
