/**
 * @module The access log: one line per request, formatted without intermediate objects and written in batches.
 *
 * No request header values are logged apart from the Host (cookies and authorization can never leak); the
 * path is logged without its query string. Every format goes through the same path: a format turns the
 * record into one ASCII line, and the sink batches lines into few writes (see access-log-sink.ts).
 */
import type { AffinityOutcome } from '../affinity/session-affinity.js'
import { JsonAccessFormat } from './access-line-json.js'
import { AccessLogSink } from './access-log-sink.js'

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

/** Where access lines go: stdout, stderr, off, or a file path. */
export class AccessLog {
  readonly enabled: boolean
  readonly #format: AccessLineFormat
  readonly #sink: AccessLogSink | undefined

  constructor(target: string, format: AccessLineFormat = new JsonAccessFormat()) {
    this.enabled = target !== 'off'
    this.#format = format
    this.#sink = this.enabled ? new AccessLogSink(target) : undefined
  }

  /** Writes one line for a finished request. */
  write(record: AccessRecord): void {
    this.#sink?.append(this.#format.format(record))
  }

  /** Writes buffered lines now (at shutdown, and when a reload replaces this log). */
  flush(): void {
    this.#sink?.flush()
  }
}
