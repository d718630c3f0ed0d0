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
  // Below: written only by formats that ask for them (access-format.ts); a record may lack them.
  /** The trace (trace-context.ts); '' or undefined when the request has none. */
  readonly traceId?: string
  /** Latch's span in that trace. */
  readonly spanId?: string
  /** The request's HTTP version as the client sent it (`1.1`, `2.0`). */
  readonly httpVersion?: string
  /** The query string as sent upstream, without `?`; undefined when there is none. */
  readonly query?: string | undefined
  /** Last attempt: milliseconds from dispatch until the request was on a connection (connect and TLS, or ~0 on a kept-alive one). */
  readonly upstreamConnectMs?: number | undefined
  /** Last attempt: milliseconds from dispatch to the response head. */
  readonly upstreamFirstByteMs?: number | undefined
  /** Last attempt: milliseconds from dispatch to the end of the response. */
  readonly upstreamTotalMs?: number | undefined
  /** The value of a request header (lower-case `name`; several joined with `, `); undefined when absent. */
  requestHeader?(name: string): string | undefined
}

/**
 * One access-log format (access-format.ts compiles `log.accessFormat` into one). `format` returns one whole
 * line ending in `\n`, in ASCII only: anything else in a value is escaped, which keeps lines intact and
 * lets the sink count bytes by characters.
 */
export interface AccessLineFormat {
  format(record: AccessRecord): string
}
