/**
 * @module What every request must know about the process's lifecycle: draining, and how many are in flight.
 */

/** Shared by every runtime of a process (reloads keep it). */
export interface TrafficState {
  /** True from the first shutdown signal: responses carry `Connection: close`. */
  draining: boolean
  /** Requests being handled right now (not upgraded tunnels). */
  inflight: number
  /** `performance.now()` when the last request arrived. */
  lastRequestAt: number
}

/** A fresh state for a starting process. */
export function newTrafficState(): TrafficState {
  return { draining: false, inflight: 0, lastRequestAt: 0 }
}
