/**
 * @module Logs what pools report: each endpoint state change once, ejections, panic mode, churn.
 */
import type { Endpoint, EndpointState } from '../upstream/endpoint.js'
import type { PoolObserver, UpstreamPool } from '../upstream/upstream-pool.js'
import type { Logger } from './logger.js'

/** A PoolObserver that writes one log line per event (state flips, not probes). */
export function poolLogObserver(logger: Logger): PoolObserver {
  return {
    endpointStateChanged(pool: UpstreamPool, endpoint: Endpoint, from: EndpointState, to: EndpointState, reason: string) {
      const level = to === 'unhealthy' || to === 'stalled' ? 'warn' : 'info'
      logger[level]({ pool: pool.name, endpoint: endpoint.id, from, to, reason }, 'endpoint state changed')
    },
    endpointEjected(pool, endpoint, durationMs) {
      logger.warn({ pool: pool.name, endpoint: endpoint.id, durationMs, ejections: endpoint.ejections }, 'endpoint ejected by passive health')
    },
    ejectionSkipped(pool, endpoint) {
      logger.warn({ pool: pool.name, endpoint: endpoint.id, maxEjectedPercent: pool.config.passiveHealth.maxEjectedPercent }, 'endpoint not ejected: max ejected share reached')
    },
    panicChanged(pool, panic, healthy, total) {
      if (panic) logger.error({ pool: pool.name, healthy, total, panicThreshold: pool.config.passiveHealth.panicThreshold }, 'pool entered panic mode: routing to all endpoints')
      else logger.info({ pool: pool.name, healthy, total }, 'pool left panic mode')
    },
    endpointAdded(pool, endpoint) {
      logger.debug({ pool: pool.name, endpoint: endpoint.id, source: endpoint.source }, 'endpoint added')
    },
    endpointRemoved(pool, endpoint) {
      logger.info({ pool: pool.name, endpoint: endpoint.id, source: endpoint.source }, 'endpoint removed after draining')
    },
  }
}

/** Combines observers (logs, metrics) into one. */
export function fanOut(observers: readonly PoolObserver[]): PoolObserver {
  return {
    endpointStateChanged: (...args) => observers.forEach((observer) => observer.endpointStateChanged(...args)),
    endpointEjected: (...args) => observers.forEach((observer) => observer.endpointEjected(...args)),
    ejectionSkipped: (...args) => observers.forEach((observer) => observer.ejectionSkipped(...args)),
    panicChanged: (...args) => observers.forEach((observer) => observer.panicChanged(...args)),
    endpointAdded: (...args) => observers.forEach((observer) => observer.endpointAdded(...args)),
    endpointRemoved: (...args) => observers.forEach((observer) => observer.endpointRemoved(...args)),
  }
}
