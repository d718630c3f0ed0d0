/**
 * @module The Lua scripts of the Redis store and the binding value format.
 *
 * A binding is stored as `endpointId|expiresAtMs` under a key with the same PX expiry, so one GET
 * returns both. Scripts make the racy steps atomic: first binding wins (claim), compare-and-set
 * move (rebind), refresh only while still bound to the same endpoint, and live-session bookkeeping.
 * Live sessions of one scope share a hash tag (`{scope}`), so their keys sit in one Cluster slot.
 */
import { createHash } from 'node:crypto'
import type { Binding } from './affinity-store.js'
import type { RedisCommands } from './redis-client.js'

/** A Lua script run by EVALSHA, loaded by EVAL when Redis does not know it yet. */
export class Script {
  readonly source: string
  readonly sha: string

  constructor(source: string) {
    this.source = source
    this.sha = createHash('sha1').update(source).digest('hex')
  }

  async run(redis: RedisCommands, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error as Error).message.startsWith('NOSCRIPT')) throw error
      return redis.eval(this.source, keys.length, ...keys, ...args)
    }
  }
}

const ENDPOINT_OF = "local function endpoint(v) return string.match(v, '^(.*)|') end\n"

/** KEYS: binding. ARGV: value, ttl ms. Returns the value in force (the existing one wins). */
export const CLAIM = new Script(`local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`)

/** KEYS: binding. ARGV: value, ttl ms, expected old endpoint. Moves only from the expected endpoint (or absent). */
export const REBIND = new Script(`${ENDPOINT_OF}local v = redis.call('GET', KEYS[1])
if v and endpoint(v) ~= ARGV[3] then return v end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`)

/** KEYS: binding. ARGV: endpoint ('' = any), expiresAt ms, ttl ms. Extends a binding still on that endpoint. */
export const REFRESH = new Script(`${ENDPOINT_OF}local v = redis.call('GET', KEYS[1])
if v and (ARGV[1] == '' or endpoint(v) == ARGV[1]) then
  redis.call('SET', KEYS[1], endpoint(v) .. '|' .. ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`)

/**
 * KEYS: session (→ endpoint), the endpoint's live set, the scope's endpoint set.
 * ARGV: endpoint, session id, expiresAt ms, ttl ms, prefix of live-set keys (+ endpoint id).
 */
export const TOUCH = new Script(`local old = redis.call('GET', KEYS[1])
if old and old ~= ARGV[1] then redis.call('ZREM', ARGV[5] .. old, ARGV[2]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1`)

/**
 * Puts back a live session that Redis lost (restarted empty), unless a replica reported it meanwhile.
 * KEYS and ARGV as TOUCH, with the session's remaining ttl: the sets' TTLs are only ever extended, since
 * other sessions in them live longer.
 */
export const RESTORE_SESSION = new Script(`if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local ttl = tonumber(ARGV[4])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
redis.call('SADD', KEYS[3], ARGV[1])
if redis.call('PTTL', KEYS[3]) < ttl then redis.call('PEXPIRE', KEYS[3], ttl) end
return 1`)

/** KEYS: the scope's endpoint set. ARGV: now ms, prefix of live-set keys. Returns [endpoint, count, …]. */
export const COUNTS = new Script(`local out = {}
for _, ep in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local z = ARGV[2] .. ep
  redis.call('ZREMRANGEBYSCORE', z, '-inf', ARGV[1])
  local n = redis.call('ZCARD', z)
  if n == 0 then redis.call('SREM', KEYS[1], ep) else
    table.insert(out, ep)
    table.insert(out, n)
  end
end
return out`)

/** KEYS: hash. ARGV: field, value, ttl ms. Sets a field and (re)sets the hash's TTL. */
export const HSET_TTL = new Script(`redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`)

/** KEYS: secret. ARGV: candidate, ttl ms. The first replica's secret wins; using it extends its TTL. */
export const SHARED_SECRET = new Script(`local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return v`)

/** The stored form of a binding. */
export function encodeBinding(binding: Binding): string {
  return `${binding.endpointId}|${binding.expiresAt}`
}

/** A stored binding, or undefined when the value is not one (or has expired). */
export function decodeBinding(value: unknown, now = Date.now()): Binding | undefined {
  if (typeof value !== 'string') return undefined
  const bar = value.lastIndexOf('|')
  const expiresAt = Number(value.slice(bar + 1))
  if (bar <= 0 || !Number.isFinite(expiresAt) || expiresAt <= now) return undefined
  return { endpointId: value.slice(0, bar), expiresAt }
}
