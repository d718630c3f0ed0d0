/**
 * RESTORE_SESSION, the write-back of a live session after Redis came back empty, on a real redis-server.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RedisCommands } from '../../../src/stores/redis-client.js'
import { RESTORE_SESSION, TOUCH } from '../../../src/stores/redis-scripts.js'
import { startRedis, stopAllRedis } from '../../helpers/redis-server.js'

let client: Redis
beforeAll(async () => {
  const redis = await startRedis()
  client = new Redis(redis.url)
})
afterAll(async () => {
  client.disconnect()
  await stopAllRedis()
})

const LIVE = 't:l:{web:cookie}:'
const keys = (session: string, endpoint: string): string[] => [`t:s:{web:cookie}:${session}`, LIVE + endpoint, 't:e:{web:cookie}']
const commands = (): RedisCommands => client as unknown as RedisCommands

describe('RESTORE_SESSION', () => {
  it('puts a lost session back where its endpoint counts it, with its remaining TTL', async () => {
    const expiresAt = Date.now() + 60_000
    expect(await RESTORE_SESSION.run(commands(), keys('s1', 'a:1'), ['a:1', 's1', expiresAt, 60_000, LIVE])).toBe(1)
    expect(await client.get('t:s:{web:cookie}:s1')).toBe('a:1')
    expect(await client.zscore(`${LIVE}a:1`, 's1')).toBe(String(expiresAt))
    expect(await client.smembers('t:e:{web:cookie}')).toEqual(['a:1'])
    expect(await client.pttl('t:s:{web:cookie}:s1')).toBeGreaterThan(55_000)
  })

  it('leaves a session another replica reported meanwhile where it is', async () => {
    await TOUCH.run(commands(), keys('s2', 'b:1'), ['b:1', 's2', Date.now() + 60_000, 60_000, LIVE])
    expect(await RESTORE_SESSION.run(commands(), keys('s2', 'a:1'), ['a:1', 's2', Date.now() + 30_000, 30_000, LIVE])).toBe(0)
    expect(await client.get('t:s:{web:cookie}:s2')).toBe('b:1')
    expect(await client.zscore(`${LIVE}a:1`, 's2')).toBeNull()
  })

  it('only extends the TTL of the live sets: a session with little time left does not shorten them', async () => {
    await RESTORE_SESSION.run(commands(), keys('long', 'c:1'), ['c:1', 'long', Date.now() + 600_000, 600_000, LIVE])
    await RESTORE_SESSION.run(commands(), keys('short', 'c:1'), ['c:1', 'short', Date.now() + 2_000, 2_000, LIVE])
    expect(await client.pttl(`${LIVE}c:1`)).toBeGreaterThan(590_000)
    expect(await client.pttl('t:e:{web:cookie}')).toBeGreaterThan(590_000)
  })
})
