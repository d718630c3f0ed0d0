/**
 * @module Metrics of the Redis store, read from its counters at scrape time (nothing per request).
 */
import { Counter, Gauge, type Registry } from 'prom-client'
import type { RedisStats } from '../stores/redis-connection.js'

/** Registers the `latch_redis_*` families on `registry`. */
export function registerRedisMetrics(registry: Registry, stats: () => RedisStats): void {
  const registers = [registry]
  new Gauge({ name: 'latch_redis_up', help: 'Whether the Redis store answers (1) or Latch serves from local state (0: breaker open).', registers, aggregator: 'min', collect() {
    this.set(stats().up ? 1 : 0)
  } })
  new Gauge({ name: 'latch_redis_breaker_open', help: 'Whether the Redis circuit breaker is open (1): commands are not sent until a probe answers.', registers, aggregator: 'max', collect() {
    this.set(stats().breaker === 'open' ? 1 : 0)
  } })
  new Gauge({ name: 'latch_redis_pending_commands', help: 'Redis commands sent and not answered yet (stays small: the breaker stops sending to a stalled Redis).', registers, collect() {
    this.set(stats().pending)
  } })
  new Counter({ name: 'latch_redis_breaker_opens_total', help: 'Times the Redis circuit breaker opened (connection lost, or consecutive failed commands).', registers, collect() {
    this.reset()
    this.inc(stats().breakerOpened)
  } })
  new Counter({ name: 'latch_redis_commands_total', help: 'Redis commands and scripts sent by the store.', registers, collect() {
    this.reset()
    this.inc(stats().commands)
  } })
  new Counter({ name: 'latch_redis_command_errors_total', help: 'Failed Redis commands by kind: timeout (no answer within commandTimeout) or error.', labelNames: ['kind'], registers, collect() {
    const current = stats()
    this.reset()
    this.inc({ kind: 'timeout' }, current.timeouts)
    this.inc({ kind: 'error' }, current.errors)
  } })
  new Counter({ name: 'latch_redis_fallbacks_total', help: 'Affinity store operations answered from local state because Redis could not answer (fail-open).', registers, collect() {
    this.reset()
    this.inc(stats().fallbacks)
  } })
}
