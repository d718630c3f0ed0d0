/**
 * @module What an access line holds and the shape of a line format: the types access-log.ts and its
 * formats (access-line-json.ts) share, apart from both so neither imports the other.
 */
import type { AffinityOutcome } from '../affinity/session-affinity.js'

/** What one access line holds; the exchange implements it, so nothing is copied to build it. */
export interface AccessRecord {
  readonly requestId: string
  readonly method: string
  readonly hostHeader: string
  readonly logPath: string
  readonly status: number
  /** When the endpoint's response broke off after its head was relayed: the status the client got (`status` is then the failure's). */
  readonly upstreamStatus: number | undefined
  readonly durationMs: number
  readonly bytesOut: number
  readonly routeDescription: string | undefined
  /** The matched rule's id (RouteAction.id), which names it in /pools and /metrics; with `poolName`, the backend it chose. */
  readonly ruleId?: string | undefined
  readonly poolName: string | undefined
  readonly endpointId: string | undefined
  readonly attempts: number
  readonly errorCode: string | undefined
  readonly clientIp: string
  /** What affinity made of the request's session (`X-Latch-Affinity`); undefined without one. */
  readonly affinityOutcome: AffinityOutcome | undefined
  /** Upgrades only: the protocol asked for (`websocket`, `h2c`…). */
  readonly upgrade?: string
  /** Upgrades only: bytes from the client to the upstream through the tunnel. */
  readonly bytesIn?: number
  /** Upgrades only: how the connection ended (upgrade-record.ts). */
  readonly outcome?: string | undefined
}

/**
 * One access-log format (JSON today; `combined` or `common` would be others). `format` returns one whole
 * line ending in `\n`, in ASCII only: anything else in a value is escaped, which keeps lines intact and
 * lets the sink count bytes by characters.
 */
export interface AccessLineFormat {
  format(record: AccessRecord): string
}
