/**
 * @module Merges the workers' `GET /pools` snapshots into one view of the whole Latch.
 *
 * Counters and in-flight numbers add up; live-session counts are cluster-wide already (shared store), so the largest is taken. States are per worker (each worker's passive health sees
 * its own requests); admin states are the same everywhere (actions reach every worker). When the
 * workers disagree, the merged state is the most cautious one and `states` lists each worker's.
 */
import type { EndpointSnapshot, PoolSnapshot } from '../admin/pool-snapshot.js'
import { addLatencyReadings } from '../observability/endpoint-latency.js'

/** A merged endpoint: the snapshot, plus each worker's state when they differ. */
export type MergedEndpoint = EndpointSnapshot & { readonly states?: Readonly<Record<string, EndpointSnapshot['state']>> }

/** The most cautious state first. */
const STATE_ORDER: readonly EndpointSnapshot['state'][] = ['maintenance', 'draining', 'unhealthy', 'stalled', 'healthy']

/** Merges per-worker snapshots (`byWorker[i]` from worker `slots[i]`). */
export function mergePools(byWorker: readonly (readonly PoolSnapshot[])[], slots: readonly number[]): PoolSnapshot[] {
  const merged: PoolSnapshot[] = []
  const names = [...new Set(byWorker.flatMap((pools) => pools.map((pool) => pool.name)))]
  for (const name of names) {
    const copies = byWorker.map((pools) => pools.find((pool) => pool.name === name))
    const present = copies.filter((pool): pool is PoolSnapshot => pool !== undefined)
    const endpointIds = [...new Set(present.flatMap((pool) => pool.endpoints.map((endpoint) => endpoint.id)))]
    merged.push({
      name,
      panic: present.some((pool) => pool.panic),
      retries: sum(present, (pool) => pool.retries),
      queue: {
        length: sum(present, (pool) => pool.queue.length),
        rejectedFull: sum(present, (pool) => pool.queue.rejectedFull),
        timedOut: sum(present, (pool) => pool.queue.timedOut),
      },
      endpoints: endpointIds.map((id) => mergeEndpoint(copies.map((pool) => pool?.endpoints.find((endpoint) => endpoint.id === id)), slots)),
    })
  }
  return merged
}

function mergeEndpoint(copies: readonly (EndpointSnapshot | undefined)[], slots: readonly number[]): MergedEndpoint {
  const present = copies.filter((endpoint): endpoint is EndpointSnapshot => endpoint !== undefined)
  const first = present[0] as EndpointSnapshot
  const states = new Set(present.map((endpoint) => endpoint.state))
  const errors: Record<string, number> = {}
  for (const endpoint of present) for (const [kind, count] of Object.entries(endpoint.errors)) errors[kind] = (errors[kind] ?? 0) + count
  const lastCheck = present.map((endpoint) => endpoint.lastCheck).filter((check) => check !== null).sort((a, b) => b.at.localeCompare(a.at))[0] ?? null
  const merged: MergedEndpoint = {
    ...first,
    state: STATE_ORDER.find((state) => states.has(state)) ?? first.state,
    available: present.every((endpoint) => endpoint.available),
    inflight: sum(present, (endpoint) => endpoint.inflight),
    total: sum(present, (endpoint) => endpoint.total),
    failures: sum(present, (endpoint) => endpoint.failures),
    errors,
    ejections: sum(present, (endpoint) => endpoint.ejections),
    stalls: sum(present, (endpoint) => endpoint.stalls),
    ejectedUntil: latest(present.map((endpoint) => endpoint.ejectedUntil)),
    removalDeadline: latest(present.map((endpoint) => endpoint.removalDeadline)),
    lastCheck,
    upgraded: sum(present, (endpoint) => endpoint.upgraded),
    // Every worker reads the same cluster-wide counts from the shared store (each up to a second old): not added up.
    sessions: Math.max(0, ...present.map((endpoint) => endpoint.sessions)),
    // Bucket counts add up; the quantiles are computed again from the sums.
    latency: addLatencyReadings(present.map((endpoint) => endpoint.latency)),
  }
  if (states.size <= 1) return merged
  const perWorker: Record<string, EndpointSnapshot['state']> = {}
  copies.forEach((endpoint, index) => {
    if (endpoint !== undefined) perWorker[String(slots[index])] = endpoint.state
  })
  return { ...merged, states: perWorker }
}

function sum<T>(items: readonly T[], value: (item: T) => number): number {
  return items.reduce((total, item) => total + value(item), 0)
}

function latest(times: readonly (string | null)[]): string | null {
  return times.filter((time): time is string => time !== null).sort().at(-1) ?? null
}
