import { describe, expect, it } from 'vitest'
import type { Pool as UndiciPool } from 'undici'
import { ProxiedDispatchers } from '../../../src/upstream/proxied-dispatchers.js'
import { Pool } from '../../../src/upstream/undici-parts.js'

/** Real undici Pools (they connect only when a request is dispatched, which these tests never do). */
function dispatchers(capacity: number): { set: ProxiedDispatchers; created: Map<string, UndiciPool> } {
  const created = new Map<string, UndiciPool>()
  const set = new ProxiedDispatchers((key) => {
    const pool = new Pool('http://127.0.0.1:9')
    created.set(key, pool)
    return pool
  }, capacity)
  return { set, created }
}

describe('ProxiedDispatchers', () => {
  it('keeps one Pool per described connection and hands it back for the same key', () => {
    const { set, created } = dispatchers(4)
    const a = set.get('10.0.0.1 1000 10.0.0.9 80')
    expect(set.get('10.0.0.1 1000 10.0.0.9 80')).toBe(a)
    expect(set.get('10.0.0.2 1000 10.0.0.9 80')).not.toBe(a)
    expect(created.size).toBe(2)
  })

  it('holds at most `capacity` Pools, closing the least recently used one', async () => {
    const { set, created } = dispatchers(2)
    set.get('a')
    set.get('b')
    // `a` used again: `b` is now the least recently used.
    set.get('a')
    set.get('c')
    const evicted = created.get('b')
    expect(set.size).toBe(2)
    expect(evicted?.closed).toBe(true)
    expect(created.get('a')?.closed).toBe(false)
    // The client of `b` comes back: a new Pool (a new connection, with the same header).
    expect(set.get('b')).not.toBe(evicted)
    await set.close()
    expect([...created.values()].every((pool) => pool.closed)).toBe(true)
  })
})
