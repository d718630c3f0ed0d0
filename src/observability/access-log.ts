/**
 * @module The access log: one JSON line per request, written asynchronously so it stays off the hot path.
 *
 * Lines are buffered (sonic-boom, 2–4 KiB batches, flushed at least every 250 ms and on shutdown). No request header values are
 * logged (cookies and authorization can never leak); the path is logged without its query string.
 */
import { pino, type Logger } from 'pino'
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
  readonly poolName: string | undefined
  readonly endpointId: string | undefined
  readonly attempts: number
  readonly errorCode: string | undefined
  readonly clientIp: string
  /** What affinity made of the request's session (`X-Latch-Affinity`); undefined without one. */
  readonly affinityOutcome: AffinityOutcome | undefined
}

/** Linux's PIPE_BUF: the largest write to a pipe that the kernel never interleaves with others. */
const PIPE_BUF = 4096

/** Where access lines go: stdout, stderr, off, or a file path. */
export class AccessLog {
  readonly enabled: boolean
  readonly #logger: Logger | undefined
  readonly #destination: ReturnType<typeof pino.destination> | undefined

  constructor(target: string) {
    this.enabled = target !== 'off'
    if (!this.enabled) return
    const dest = target === 'stdout' ? 1 : target === 'stderr' ? 2 : target
    // Every write is whole lines and at most PIPE_BUF bytes (sonic-boom's maxWrite): such writes to a
    // pipe are atomic, so the lines of several worker processes sharing stdout never interleave.
    this.#destination = pino.destination({ dest, sync: false, minLength: PIPE_BUF / 2, maxWrite: PIPE_BUF, periodicFlush: 250, mkdir: true })
    this.#logger = pino(
      { base: null, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: () => ({ log: 'access' }) } },
      this.#destination,
    )
  }

  /** Writes one line for a finished request. */
  write(record: AccessRecord): void {
    this.#logger?.info({
      reqId: record.requestId,
      method: record.method,
      host: record.hostHeader,
      path: record.logPath,
      status: record.status,
      upstreamStatus: record.upstreamStatus,
      durationMs: record.durationMs,
      bytes: record.bytesOut,
      route: record.routeDescription,
      pool: record.poolName,
      endpoint: record.endpointId,
      attempts: record.attempts,
      code: record.errorCode,
      clientIp: record.clientIp,
      affinity: record.affinityOutcome,
    })
  }

  /** Flushes buffered lines (at shutdown). */
  flush(): void {
    try {
      this.#destination?.flushSync()
    } catch {
      // Not yet open (no line written); nothing to flush.
    }
  }
}
