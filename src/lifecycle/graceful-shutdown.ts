/**
 * @module The shutdown sequence, timed against Kubernetes' 30 s grace period (terminationGracePeriodSeconds).
 *
 * 1. `/readyz` fails at once and responses carry `Connection: close`, while listeners keep accepting
 *    for `drainDelay` (endpoints controllers and load balancers need that long to stop sending).
 * 2. Listeners stop accepting, but open keep-alive connections are not cut: a request arriving on
 *    one is served (with `Connection: close`), because closing an idle connection races with a request
 *    the client may already have sent (it would get a reset). In-flight requests and upgraded tunnels
 *    get `drainTimeout`; once none is left and no request came for a moment, idle connections close.
 * 3. At the deadline, requests still queued for an endpoint slot get 503 `ERR_SHUTTING_DOWN`, then
 *    everything left is closed. Either way the process can then exit 0.
 */
import { Server as NetServer } from 'node:net'
import type { Readiness } from '../admin/readiness.js'
import type { ShutdownConfig } from '../config/schema.js'
import type { Logger } from '../observability/logger.js'
import type { TunnelRegistry } from '../proxying/upgrade.js'
import { closeAllConnections, closeIdleConnections, type TrafficServer } from '../server/traffic-server.js'
import type { DrainOutcome } from './outcomes.js'
import type { TrafficState } from './traffic-state.js'

const POLL_MS = 50
/**
 * Drained means: nothing in flight, no tunnel, and no request for this long. A client that is still
 * using a keep-alive connection would otherwise race the final close of idle connections.
 */
const QUIET_MS = 500

/** What the sequence acts on. */
export interface DrainTargets {
  /** HTTP/1 (node:http, node:https) and HTTP/2 servers; HTTP/2 sessions get GOAWAY where HTTP/1 gets `Connection: close`. */
  readonly servers: readonly TrafficServer[]
  readonly tunnels: TunnelRegistry
  readonly traffic: TrafficState
  readonly readiness: Readiness
  readonly logger: Logger
  /** At the deadline: answers requests still waiting for an endpoint slot (503 ERR_SHUTTING_DOWN). */
  readonly rejectQueued: () => void
}

export type { DrainOutcome }

/** Runs the sequence; resolves once no request or tunnel is left open. */
export async function drain(targets: DrainTargets, timing: ShutdownConfig): Promise<DrainOutcome> {
  const { servers, tunnels, traffic, readiness, logger } = targets
  readiness.setShuttingDown()
  traffic.draining = true
  logger.info({ drainDelayMs: timing.drainDelay, drainTimeoutMs: timing.drainTimeout, inflight: traffic.inflight, tunnels: tunnels.sockets.size }, 'draining: readiness failed, still accepting')
  await sleep(timing.drainDelay)
  // The kernel resets connections still in the accept queue when a listener closes (before any byte
  // of theirs is read, so clients see a connection failure, never a half-processed request): let the
  // event loop accept what is queued right now, then close. net.Server's close, not http.Server's:
  // the latter would also cut idle keep-alive connections at once.
  await new Promise((resolve) => setImmediate(resolve))
  for (const server of servers) NetServer.prototype.close.call(server)
  logger.info({ inflight: traffic.inflight, tunnels: tunnels.sockets.size }, 'draining: listeners closed, waiting for in-flight work')
  const deadline = Date.now() + timing.drainTimeout
  while (traffic.inflight > 0 || tunnels.sockets.size > 0 || performance.now() - traffic.lastRequestAt < QUIET_MS) {
    if (Date.now() >= deadline) {
      logger.warn({ inflight: traffic.inflight, tunnels: tunnels.sockets.size }, 'drain timeout reached: closing remaining connections')
      // A request still queued for a slot was never sent upstream: it gets a clear 503 rather than a
      // reset, written before the connections close (one turn of the event loop writes it).
      targets.rejectQueued()
      await new Promise((resolve) => setImmediate(resolve))
      for (const server of servers) closeAllConnections(server)
      for (const socket of tunnels.sockets) socket.destroy()
      return 'deadline'
    }
    await sleep(POLL_MS)
  }
  for (const server of servers) closeIdleConnections(server)
  return 'drained'
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
