/**
 * @module Config schema of the affinity store: `memory` (one process, the default) or `redis` (shared
 * by every replica and worker, through ioredis: a single server, Sentinel or Cluster).
 *
 * The fault settings default to fail-open: Redis being slow or down never fails a request (see the
 * README's "Several replicas with Redis").
 */
import { z } from 'zod'
import { count, duration } from './schema-types.js'

const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/

/** `host:port` of a Sentinel or Cluster node. */
const hostPort = (what: string) =>
  z.string({ error: `expected the host:port of a ${what}, such as redis-sentinel-0:26379` }).superRefine((value, ctx) => {
    const match = HOST_PORT.exec(value)
    const port = match === null ? NaN : Number(match[2])
    if (!(port >= 1 && port <= 65_535)) ctx.addIssue({ code: 'custom', input: value, message: `invalid address ${JSON.stringify(value)} — expected the host:port of a ${what}, such as 10.0.0.5:26379` })
  })

/** A `redis://` or `rediss://` URL. */
const redisUrl = () =>
  z.string({ error: 'expected a URL such as redis://redis:6379 or rediss://user:password@redis:6380/0' }).superRefine((value, ctx) => {
    const expected = 'expected redis://[user:password@]host[:port][/db] or rediss://… for TLS'
    let url: URL
    try {
      url = new URL(value)
    } catch {
      ctx.addIssue({ code: 'custom', input: value, message: `invalid URL ${JSON.stringify(redact(value))} — ${expected}` })
      return
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') ctx.addIssue({ code: 'custom', input: value, message: `unsupported scheme "${url.protocol.slice(0, -1)}" — ${expected}` })
    else if (url.hostname === '') ctx.addIssue({ code: 'custom', input: value, message: `URL ${JSON.stringify(redact(value))} has no host — ${expected}` })
    else if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d{1,2}$/.test(url.pathname)) ctx.addIssue({ code: 'custom', input: value, message: `database "${url.pathname.slice(1)}" in the URL is not a number — ${expected}` })
  })

/** Hides a password in a URL for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')
}

const CircuitBreaker = z.strictObject({
  failures: count(1, 1000).default(3).meta({ description: 'Consecutive failed or timed-out commands that open the breaker: Latch then stops waiting on Redis and serves from local state. A timeout while Redis keeps answering other commands (a burst) does not count; that one command falls back.' }),
  probeInterval: duration().prefault('500ms').meta({ description: 'While the breaker is open, Redis is probed this often (a GET under the key prefix, so an ACL user without access stays unavailable); the first answer closes it.' }),
})

const LocalCache = z.strictObject({
  ttl: duration().prefault('10s').meta({ description: 'A binding read from Redis is reused locally for this long without asking Redis again. Bindings change only by a rebind, which every replica is told of at once through pub/sub (after a lost subscription nothing cached is reused); the TTL bounds what a missed message can cost. `0` disables the cache.' }),
  maxEntries: count(0, 10_000_000).default(100_000).meta({ description: 'Most bindings kept locally (oldest dropped first). They also serve as the fallback while Redis is unreachable.' }),
})

const Reconnect = z.strictObject({
  minDelay: duration().prefault('50ms').meta({ description: 'First reconnect delay; it doubles per failed attempt, with random jitter of up to half.' }),
  maxDelay: duration().prefault('2s').meta({ description: 'Longest reconnect delay.' }),
})

export const STORE_TYPES = ['memory', 'redis'] as const
/** Default of `store.maxEntries`. */
export const DEFAULT_MAX_ENTRIES = 100_000

/** `store`: where affinity state lives. */
export const Store = z
  .strictObject({
    type: z.enum(STORE_TYPES, { error: 'expected memory or redis' }).default('memory').meta({ description: '`memory`: bindings live in this process (with `workers` > 1, in the supervisor, shared by its workers). `redis`: bindings, re-pick decisions, session counts, the generated cookie secret and operator state are shared by every replica through Redis; the keys below `maxEntries` apply only to it.' }),
    maxEntries: count(100, 100_000_000).default(DEFAULT_MAX_ENTRIES).meta({ description: 'Most bindings (`client-ip`, `learn`; all pools together) and most live sessions per pool that the memory store keeps (with `redis`: this process\'s copy of the live sessions). When full, the least recently used entry is dropped, like a full HAProxy stick table: a dropped binding gives its client a new pick, a dropped live session only leaves the counts (cookie and header sessions stay bound through their token). A live session takes about 150 bytes, a binding about 250. Drops are counted in `latch_store_evictions_total` and logged (`STORE_FULL`) at most once a minute. Clients without a cookie jar start a session per request, so this bound is what keeps a burst of them from exhausting memory.' }),
    url: redisUrl().optional().meta({ description: 'A single Redis server: `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. Use `${REDIS_URL}`. Not with `sentinels` or `cluster`.' }),
    username: z.string().min(1).optional().meta({ description: 'ACL user name (overrides the URL\'s).' }),
    password: z.string().min(1).optional().meta({ description: 'Password (overrides the URL\'s); use `${REDIS_PASSWORD:-}`, which leaves it unset when the variable is empty or unset.' }),
    db: z.int({ error: 'expected a database number from 0 to 15' }).min(0, { error: 'expected a database number from 0 to 15' }).max(15, { error: 'expected a database number from 0 to 15' }).optional().meta({ description: 'Database number (overrides the URL\'s; not with `cluster`).' }),
    tls: z.boolean().optional().meta({ description: 'TLS to Redis (implied by `rediss://`); system CAs are trusted.' }),
    sentinels: z.array(hostPort('Sentinel'), { error: 'expected a list of host:port addresses' }).min(1, { error: 'expected at least one Sentinel host:port' }).optional().meta({ description: 'Redis Sentinel addresses (`host:port`); Latch asks them for the master named `name` and follows failovers.' }),
    name: z.string().min(1).optional().meta({ description: 'Master name the Sentinels monitor (required with `sentinels`).' }),
    sentinelPassword: z.string().min(1).optional().meta({ description: 'Password of the Sentinels themselves, when they have one.' }),
    cluster: z.array(hostPort('Redis Cluster node'), { error: 'expected a list of host:port addresses' }).min(1, { error: 'expected at least one Cluster node host:port' }).optional().meta({ description: 'Redis Cluster seed nodes (`host:port`); the others are discovered.' }),
    keyPrefix: z.string().regex(/^[A-Za-z0-9:_.-]*$/, { error: 'expected letters, digits, ":", "_", "." or "-"' }).default('latch:').meta({ description: 'Prefix of every key and channel, so several Latch deployments can share one Redis.' }),
    commandTimeout: duration().prefault('75ms').meta({ description: 'Longest wait for one Redis command; then the request proceeds on local state. Bounds the latency Redis can add.' }),
    connectTimeout: duration().prefault('2s').meta({ description: 'Timeout of one connection attempt.' }),
    reconnect: Reconnect.prefault({}).meta({ description: 'Reconnect backoff (exponential with jitter), forever.' }),
    circuitBreaker: CircuitBreaker.prefault({}).meta({ description: 'Stops waiting on a dead or stalled Redis.' }),
    localCache: LocalCache.prefault({}).meta({ description: 'Recent bindings kept in this process, so a returning client does not always cost a round trip.' }),
    failClosed: z.boolean().default(false).meta({ description: '`false` (fail-open): while Redis is unreachable, requests proceed on local state and `/readyz` stays ready (its details say Redis is down). `true`: requests of `client-ip` and `learn` pools that need the store get 503 `ERR_STORE_UNAVAILABLE` with Retry-After, and `/readyz` fails.' }),
  })
  .superRefine((store, ctx) => {
    const given = [store.url === undefined ? [] : ['url'], store.sentinels === undefined ? [] : ['sentinels'], store.cluster === undefined ? [] : ['cluster']].flat()
    if (store.type === 'memory') {
      const extra = ['url', 'username', 'password', 'db', 'tls', 'sentinels', 'name', 'sentinelPassword', 'cluster'].filter((key) => store[key as keyof typeof store] !== undefined)
      for (const key of extra) ctx.addIssue({ code: 'custom', path: [key], message: 'only used with type: redis — set type: redis or remove it' })
      return
    }
    if (given.length === 0) ctx.addIssue({ code: 'custom', path: ['url'], message: 'missing — type: redis expects url (redis://host:6379), sentinels with name, or cluster' })
    if (given.length > 1) ctx.addIssue({ code: 'custom', path: [given[1] as string], message: `not with ${given[0]} — expected exactly one of url, sentinels or cluster` })
    if (store.sentinels !== undefined && store.name === undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'required with sentinels — expected the master name the Sentinels monitor, e.g. mymaster' })
    if (store.name !== undefined && store.sentinels === undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'only used with sentinels — add sentinels or remove name' })
    if (store.cluster !== undefined && store.db !== undefined && store.db !== 0) ctx.addIssue({ code: 'custom', path: ['db'], message: 'Redis Cluster has only database 0 — remove db' })
    if (store.reconnect.minDelay > store.reconnect.maxDelay) ctx.addIssue({ code: 'custom', path: ['reconnect', 'minDelay'], message: 'longer than reconnect.maxDelay — expected minDelay ≤ maxDelay' })
    if (store.commandTimeout < 1) ctx.addIssue({ code: 'custom', path: ['commandTimeout'], message: 'expected at least 1ms' })
  })

export type StoreConfig = z.output<typeof Store>
export type RedisStoreConfig = StoreConfig & { readonly type: 'redis' }
