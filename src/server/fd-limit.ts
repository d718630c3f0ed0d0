/**
 * @module Checks at start that the process may open as many files as the config can need at once.
 *
 * Every client connection, upstream connection and probe is a file descriptor. Out of them, accept()
 * and connect() fail with EMFILE (503 ERR_PROXY_RESOURCES): better said once at start. Node has no
 * getrlimit; on Linux /proc/self/limits has the soft limit (Node raises it to the hard limit at
 * start, so this reads what really applies). Elsewhere the check is skipped.
 */
import { readFileSync } from 'node:fs'
import type { Config } from '../config/schema.js'
import type { Logger } from '../observability/logger.js'

/** Descriptors beside connections: listeners, log files, Redis, DNS, the admin API, Node's own. */
const RESERVE = 64

/** The soft "Max open files" limit in a /proc/<pid>/limits text; undefined when absent or unlimited. */
export function parseOpenFileLimit(limits: string): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits)
  if (match === null || match[1] === 'unlimited') return undefined
  return Number(match[1])
}

/** This process's open-file limit; undefined where it cannot be read (not Linux). */
export function openFileLimit(): number | undefined {
  try {
    return parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8'))
  } catch {
    return undefined
  }
}

/** What a config may hold open at once, in one process. */
export interface DescriptorNeeds {
  /** `server.maxConnections` on each listener. */
  readonly clientConnections: number
  /** `limits.maxRequestsPerEndpoint` per endpoint known from the config, plus one probe connection each when checked. */
  readonly upstreamConnections: number
  readonly total: number
}

export function descriptorNeeds(config: Config): DescriptorNeeds {
  const clientConnections = config.server.maxConnections * config.listen.length
  let upstreamConnections = 0
  for (const pool of config.pools) upstreamConnections += pool.endpoints.length * (pool.limits.maxRequestsPerEndpoint + (pool.healthCheck === undefined ? 0 : 1))
  return { clientConnections, upstreamConnections, total: clientConnections + upstreamConnections + RESERVE }
}

/** Warns when the open-file limit is below what `config` may need (each worker process has its own). */
export function warnAboutFileLimit(config: Config, logger: Logger, limit = openFileLimit()): void {
  if (limit === undefined) return
  const needs = descriptorNeeds(config)
  if (limit >= needs.total) return
  logger.warn(
    {
      limit,
      needed: needs.total,
      maxConnections: config.server.maxConnections,
      listeners: config.listen.length,
      upstreamConnections: needs.upstreamConnections,
      hint: 'raise the limit (ulimit -n, systemd LimitNOFILE, docker --ulimit nofile) or lower server.maxConnections or limits.maxRequestsPerEndpoint; out of descriptors, requests get 503 ERR_PROXY_RESOURCES',
    },
    'the file-descriptor limit is too low for this config',
  )
}
