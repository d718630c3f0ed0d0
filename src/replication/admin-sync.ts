/**
 * @module Operator state (drain, undrain, maintenance) shared by every replica through Redis.
 *
 * An action applied through one replica's admin API is written to a Redis hash (the record every
 * replica reconciles against) and published; the other replicas apply it on the message, typically
 * within milliseconds. A periodic reconcile (and one after every Redis recovery and at start) heals
 * a missed message and teaches a new replica the current state. An action taken while Redis is
 * unreachable is kept and written when Redis answers again, so a reconcile never undoes it. Every
 * change carries the time of the action: a reconcile reply that raced a newer message is ignored
 * (actions by different replicas are compared by their clocks; operators act seconds apart).
 */
import type { EndpointActionResult } from '../admin/endpoint-actions.js'
import type { Logger } from '../observability/logger.js'
import type { RedisConnection } from '../stores/redis-connection.js'
import { HSET_TTL } from '../stores/redis-scripts.js'
import type { AdminState } from '../upstream/endpoint.js'
import type { UpstreamPool } from '../upstream/upstream-pool.js'
import type { RedisBus } from '../stores/redis-bus.js'

const CHANNEL = 'admin'
const RECONCILE_MS = 5000
/** Operator state is kept this long after its last change (every key has a TTL). */
const STATE_TTL_MS = 30 * 24 * 3600 * 1000
const STATES: readonly AdminState[] = ['active', 'draining', 'maintenance']

interface Change {
  readonly pool: string
  readonly endpoint: string
  readonly state: AdminState
  /** When the operator acted (ms since epoch): a change older than one already applied is ignored. */
  readonly at: number
}

/** Shares admin states of endpoints between replicas. */
export class AdminSync {
  readonly #connection: RedisConnection
  readonly #bus: RedisBus
  readonly #key: string
  readonly #pools: () => ReadonlyMap<string, UpstreamPool>
  readonly #logger: Logger
  readonly #unwritten = new Map<string, Change>()
  /** field → time of the newest change applied here (a late reconcile reply must not undo a message). */
  readonly #applied = new Map<string, number>()
  readonly #timer: NodeJS.Timeout

  constructor(connection: RedisConnection, bus: RedisBus, keyPrefix: string, pools: () => ReadonlyMap<string, UpstreamPool>, logger: Logger) {
    this.#connection = connection
    this.#bus = bus
    this.#key = `${keyPrefix}admin`
    this.#pools = pools
    this.#logger = logger
    bus.subscribe(CHANNEL, (message) => {
      const change = parse(message)
      if (change !== undefined) this.#apply(change, 'message')
    })
    connection.onRecovered(async () => {
      await this.#writeUnwritten()
      await this.reconcile()
    })
    this.#timer = setInterval(() => void this.reconcile(), RECONCILE_MS)
    this.#timer.unref()
  }

  /** An action was applied through this replica's admin API: share it. */
  shared(result: EndpointActionResult): void {
    const change: Change = { pool: result.pool, endpoint: result.endpoint.id, state: result.to, at: Date.now() }
    this.#unwritten.set(fieldOf(change), change)
    this.#applied.set(fieldOf(change), change.at)
    void this.#write(change)
  }

  /** Applies the states recorded in Redis that differ from this replica's. */
  async reconcile(): Promise<void> {
    if (!this.#connection.available) return
    let record: Record<string, string>
    try {
      record = await this.#connection.run((redis) => redis.hgetall(this.#key))
    } catch {
      return
    }
    for (const [field, value] of Object.entries(record)) {
      if (this.#unwritten.has(field)) continue
      const [pool, endpoint] = field.split('\0')
      const [state, at] = value.split('|')
      if (pool !== undefined && endpoint !== undefined && STATES.includes(state as AdminState)) this.#apply({ pool, endpoint, state: state as AdminState, at: Number(at) || 0 }, 'reconcile')
    }
  }

  close(): void {
    clearInterval(this.#timer)
  }

  async #write(change: Change): Promise<void> {
    const field = fieldOf(change)
    try {
      await this.#connection.run((redis) => HSET_TTL.run(redis, [this.#key], [field, `${change.state}|${change.at}`, STATE_TTL_MS]))
      if (this.#unwritten.get(field) === change) this.#unwritten.delete(field)
      await this.#bus.publish(CHANNEL, JSON.stringify(change))
    } catch {
      this.#logger.warn({ pool: change.pool, endpoint: change.endpoint, state: change.state }, 'redis store unavailable: the admin action applies to this replica now and is shared with the others when Redis is back')
    }
  }

  async #writeUnwritten(): Promise<void> {
    for (const change of [...this.#unwritten.values()]) await this.#write(change)
  }

  #apply(change: Change, via: 'message' | 'reconcile'): void {
    const field = fieldOf(change)
    if ((this.#applied.get(field) ?? -1) > change.at) return
    this.#applied.set(field, change.at)
    const endpoint = this.#pools().get(change.pool)?.endpoint(change.endpoint)
    if (endpoint === undefined || endpoint.adminState === change.state) return
    endpoint.setAdminState(change.state, `admin (another replica): ${change.state}`)
    this.#logger.info({ pool: change.pool, endpoint: change.endpoint, state: change.state, via }, 'admin state applied from another replica')
  }
}

function fieldOf(change: Change): string {
  return `${change.pool}\0${change.endpoint}`
}

function parse(message: string): Change | undefined {
  try {
    const value = JSON.parse(message) as Partial<Change>
    if (typeof value.pool === 'string' && typeof value.endpoint === 'string' && STATES.includes(value.state as AdminState) && typeof value.at === 'number') return value as Change
  } catch {
    // Not ours.
  }
  return undefined
}
