/**
 * The small parts of the Redis store on their own: reconnect backoff with jitter, the circuit
 * breaker, the local binding cache (freshness, fallback, dirty entries first, bound size) and the
 * stored binding format.
 */
import { describe, expect, it } from 'vitest'
import { BindingCache } from '../../../src/stores/binding-cache.js'
import { CircuitBreaker } from '../../../src/stores/circuit-breaker.js'
import { reconnectDelay } from '../../../src/stores/redis-client.js'
import { decodeBinding, encodeBinding } from '../../../src/stores/redis-scripts.js'

describe('reconnect backoff', () => {
  it('doubles from minDelay up to maxDelay, minus up to half at random', () => {
    expect([1, 2, 3, 4, 5, 6, 10, 100].map((attempt) => reconnectDelay(attempt, 50, 2000, () => 0))).toEqual([50, 100, 200, 400, 800, 1600, 2000, 2000])
    expect([1, 2, 6, 100].map((attempt) => reconnectDelay(attempt, 50, 2000, () => 1))).toEqual([25, 50, 800, 1000])
    for (let i = 0; i < 100; i++) {
      const delay = reconnectDelay(4, 50, 2000)
      expect(delay).toBeGreaterThanOrEqual(200)
      expect(delay).toBeLessThanOrEqual(400)
    }
  })
})

describe('circuit breaker', () => {
  it('starts open, closes on reset, opens after N consecutive failures or a trip', () => {
    const breaker = new CircuitBreaker(3)
    expect(breaker.allows).toBe(false)
    expect(breaker.reset()).toBe(true)
    expect(breaker.allows).toBe(true)
    expect(breaker.failure()).toBe(false)
    expect(breaker.failure()).toBe(false)
    breaker.success()
    expect(breaker.failure()).toBe(false)
    expect(breaker.failure()).toBe(false)
    expect(breaker.failure()).toBe(true)
    expect(breaker.state).toBe('open')
    expect(breaker.failure()).toBe(false)
    expect(breaker.opened).toBe(1)
    breaker.reset()
    expect(breaker.trip()).toBe(true)
    expect(breaker.trip()).toBe(false)
    expect(breaker.opened).toBe(2)
  })
})

describe('binding cache', () => {
  const binding = (endpointId: string, expiresAt: number) => ({ endpointId, expiresAt })

  it('answers fresh entries within its TTL, and any unexpired entry as fallback', () => {
    const cache = new BindingCache(10, 1000)
    cache.put('k', binding('a:1', 50_000), 0)
    expect(cache.fresh('k', 999)).toEqual(binding('a:1', 50_000))
    expect(cache.fresh('k', 1000)).toBeUndefined()
    expect(cache.any('k', 40_000)).toEqual(binding('a:1', 50_000))
    expect(cache.any('k', 50_000)).toBeUndefined()
  })

  it('never treats a binding made during an outage (dirty) as fresh, keeps it on invalidation, lists it first', () => {
    const cache = new BindingCache(10, 1000)
    cache.put('clean', binding('a:1', 50_000), 0)
    cache.put('dirty', binding('b:1', 50_000), 0, true)
    expect(cache.fresh('dirty', 1)).toBeUndefined()
    cache.invalidate('dirty')
    cache.invalidate('clean')
    expect(cache.any('dirty', 1)).toEqual(binding('b:1', 50_000))
    expect(cache.any('clean', 1)).toBeUndefined()
    cache.put('clean', binding('a:1', 50_000), 0)
    expect(cache.unexpired(1).map(([key]) => key)).toEqual(['dirty', 'clean'])
  })

  it('drops the oldest entry beyond maxEntries; staleAll keeps entries but none is fresh', () => {
    const cache = new BindingCache(2, 1000)
    cache.put('one', binding('a:1', 50_000), 0)
    cache.put('two', binding('a:1', 50_000), 0)
    cache.put('three', binding('a:1', 50_000), 0)
    expect(cache.any('one', 1)).toBeUndefined()
    expect(cache.size).toBe(2)
    cache.staleAll()
    expect(cache.fresh('three', 1)).toBeUndefined()
    expect(cache.any('three', 1)).toEqual(binding('a:1', 50_000))
  })
})

describe('stored binding format', () => {
  it('round-trips endpoint|expiry and rejects garbage or expired values', () => {
    expect(decodeBinding(encodeBinding(binding('[::1]:8080', 5000)), 0)).toEqual(binding('[::1]:8080', 5000))
    expect(decodeBinding('10.0.0.1:80|5000', 5000)).toBeUndefined()
    expect(decodeBinding('no-expiry', 0)).toBeUndefined()
    expect(decodeBinding('|5000', 0)).toBeUndefined()
    expect(decodeBinding(null, 0)).toBeUndefined()
  })

  function binding(endpointId: string, expiresAt: number) {
    return { endpointId, expiresAt }
  }
})
