/**
 * @module The Redis command connection with its circuit breaker, health and counters.
 *
 * Every command goes through `run`: while the breaker is open it fails at once (no waiting on a dead
 * or stalled Redis); otherwise it has `commandTimeout`, and `circuitBreaker.failures` consecutive
 * failures open the breaker (a timeout while Redis kept answering other commands does not count: that
 * is a burst, and only the late command falls back). A lost connection opens it at once. While open,
 * Redis is probed (a GET under the key prefix) every `probeInterval` (ioredis reconnects on its own,
 * with backoff and jitter); the first answer closes the breaker and runs the recovery hooks (write-back of bindings made meanwhile).
 * The breaker starts open: Latch serves at once and uses Redis from its first answer.
 */
import type { RedisStoreConfig } from '../config/store-schema.js'
import type { Logger } from '../observability/logger.js'
import { CircuitBreaker, type BreakerState } from './circuit-breaker.js'
import { createRedisClient, describeTarget, type RedisClient, type RedisCommands } from './redis-client.js'
import { StoreUnavailableError } from './store-error.js'

/** Counters and state for metrics and `/readyz`. */
export interface RedisStats {
  readonly up: boolean
  readonly breaker: BreakerState
  readonly breakerOpened: number
  readonly commands: number
  readonly errors: number
  readonly timeouts: number
  /** Commands sent and not answered yet (bounded: the breaker stops sending to a stalled Redis). */
  readonly pending: number
  /** Operations answered from local state because Redis could not answer. */
  readonly fallbacks: number
}

/** The `/readyz` view of Redis. */
export interface RedisHealth {
  readonly up: boolean
  readonly detail: string
}

/** A command connection to Redis, guarded by a circuit breaker. */
export class RedisConnection {
  readonly client: RedisClient
  readonly target: string
  readonly #commands: RedisCommands
  readonly #config: RedisStoreConfig
  readonly #logger: Logger
  readonly #breaker: CircuitBreaker
  readonly #recoveryHooks: (() => Promise<void>)[] = []
  readonly #probe: NodeJS.Timeout
  #probing = false
  #closed = false
  #lastProblem = 'connecting'
  /** When Redis last answered a command (performance.now()). */
  #lastReplyAt = 0
  #everConnected = false
  #commandCount = 0
  #errors = 0
  #timeouts = 0
  #pending = 0
  #fallbacks = 0

  constructor(config: RedisStoreConfig, logger: Logger) {
    this.#config = config
    this.#logger = logger
    this.target = describeTarget(config)
    this.#breaker = new CircuitBreaker(config.circuitBreaker.failures)
    this.client = createRedisClient(config, 'commands')
    this.#commands = this.client as unknown as RedisCommands
    this.client.on('error', (error: Error) => this.#problem(explain(error, config)))
    this.client.on('ready', () => void this.#probeOnce())
    this.client.on('close', () => this.#lost('connection closed'))
    this.#probe = setInterval(() => void this.#probeOnce(), config.circuitBreaker.probeInterval)
    this.#probe.unref()
  }

  /** True while commands are sent (breaker closed). */
  get available(): boolean {
    return this.#breaker.allows
  }

  /** Runs one command (or script) unless the breaker is open; failures count towards opening it. */
  async run<T>(command: (redis: RedisCommands) => Promise<T>): Promise<T> {
    if (!this.#breaker.allows) throw new StoreUnavailableError('circuit-open', `Redis is unavailable (${this.#lastProblem})`)
    this.#commandCount++
    this.#pending++
    const sentAt = performance.now()
    try {
      const result = await withDeadline(command(this.#commands), this.#config.commandTimeout)
      this.#lastReplyAt = performance.now()
      this.#breaker.success()
      return result
    } catch (error) {
      const timedOut = error instanceof CommandTimeout
      if (timedOut) this.#timeouts++
      else this.#errors++
      const problem = timedOut ? `no answer within commandTimeout (${this.#config.commandTimeout} ms)` : explain(error as Error, this.#config)
      // A timeout while Redis answered other commands is a burst, not a dead Redis: only that
      // command falls back. Silence, or a failing connection, counts towards opening the breaker.
      const answering = timedOut && this.#lastReplyAt > sentAt
      if (!answering && this.#breaker.failure()) this.#opened(problem)
      throw new StoreUnavailableError(timedOut ? 'timeout' : 'error', `Redis command failed: ${problem}`, { cause: error })
    } finally {
      this.#pending--
    }
  }

  /** Counts an operation answered from local state. */
  fellBack(): void {
    this.#fallbacks++
  }

  /** Runs `hook` each time Redis becomes reachable (the breaker closes). */
  onRecovered(hook: () => Promise<void>): void {
    this.#recoveryHooks.push(hook)
  }

  stats(): RedisStats {
    return {
      up: this.#breaker.allows,
      breaker: this.#breaker.state,
      breakerOpened: this.#breaker.opened,
      commands: this.#commandCount,
      errors: this.#errors,
      timeouts: this.#timeouts,
      pending: this.#pending,
      fallbacks: this.#fallbacks,
    }
  }

  health(): RedisHealth {
    if (this.#breaker.allows) return { up: true, detail: `connected to ${this.target}` }
    const fallback = this.#config.failClosed ? 'requests that need the store get 503 (failClosed)' : 'serving from local state'
    return { up: false, detail: `${this.target}: ${this.#lastProblem}; ${fallback}; retrying` }
  }

  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#probe)
    this.#breaker.trip()
    try {
      await Promise.race([this.client.quit(), new Promise((resolve) => setTimeout(resolve, 500).unref())])
    } catch {
      // Already gone.
    }
    this.client.disconnect()
  }

  /** Probes Redis while the breaker is open; closes it on an answer. */
  async #probeOnce(): Promise<void> {
    if (this.#breaker.allows || this.#probing || this.#closed || this.client.status !== 'ready') return
    this.#probing = true
    try {
      // A read under the key prefix, not PING: an ACL user without access to our keys stays unavailable.
      await withDeadline(this.#commands.get(`${this.#config.keyPrefix}probe`), this.#config.commandTimeout)
    } catch (error) {
      this.#problem(error instanceof CommandTimeout ? `no answer to a probe within commandTimeout (${this.#config.commandTimeout} ms)` : explain(error as Error, this.#config))
      return
    } finally {
      this.#probing = false
    }
    if (this.#closed || !this.#breaker.reset()) return
    this.#logger.info({ store: this.target }, this.#everConnected ? 'redis store reachable again; writing back bindings made meanwhile' : 'redis store connected')
    this.#everConnected = true
    this.#lastProblem = 'ok'
    for (const hook of this.#recoveryHooks) await hook().catch((error: unknown) => this.#logger.warn({ err: (error as Error).message }, 'redis store recovery step failed'))
  }

  #lost(reason: string): void {
    if (this.#closed) return
    if (this.#breaker.trip()) this.#opened(this.#lastProblem === 'ok' ? reason : this.#lastProblem)
  }

  #opened(problem: string): void {
    this.#lastProblem = problem
    const fallback = this.#config.failClosed ? 'requests that need the store get 503 until it is back (failClosed)' : 'serving from local state until it is back'
    this.#logger.warn({ store: this.target, problem }, `redis store unavailable: ${problem}; ${fallback}`)
  }

  /** Logs a connection problem once per distinct message. */
  #problem(problem: string): void {
    if (this.#closed || problem === this.#lastProblem) return
    this.#lastProblem = problem
    this.#logger.warn({ store: this.target, problem }, `redis store: ${problem}`)
  }
}

/** A command that got no answer within commandTimeout. */
class CommandTimeout extends Error {}

/**
 * `promise`, or a CommandTimeout after `ms`. When the timer fires, the verdict waits for the check
 * phase of the event loop: a reply that arrived while the loop was busy is read in the poll phase
 * before it, so a busy Latch does not mistake its own lag for a slow Redis.
 */
function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false
    const timer = setTimeout(() => setImmediate(() => {
      if (settled) return
      settled = true
      reject(new CommandTimeout(`Redis command timed out after ${ms} ms`))
    }), ms)
    promise.then(
      (value) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        reject(error as Error)
      },
    )
  })
}

/** A precise, actionable description of a Redis error. */
export function explain(error: Error & { code?: string }, config: RedisStoreConfig): string {
  const message = error.message
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(message)) {
    return `authentication failed (${message.split('\n')[0]}) — check store.password / store.username or the credentials in store.url`
  }
  if (/NOPERM/.test(message)) return `permission denied (${message}) — the ACL user needs GET, SET, EVAL/EVALSHA, PUBLISH, SUBSCRIBE and the sorted-set commands on keys ${config.keyPrefix}*`
  if (error.code === 'ECONNREFUSED' || message.includes('ECONNREFUSED')) return `unreachable: connection refused (${message.replace(/^connect /, '')})`
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(message)) return `unreachable: cannot resolve the host (${message})`
  if (error.code === 'ETIMEDOUT' || message.includes('ETIMEDOUT')) return `unreachable: connect timed out after ${config.connectTimeout} ms`
  return message
}
