/**
 * @module The access log: one line per request, formatted without intermediate objects and written in batches.
 *
 * No request header values are logged apart from the Host (cookies and authorization can never leak); the
 * path is logged without its query string. Every format goes through the same path: a format turns the
 * record into one ASCII line, and the sink batches lines into few writes (see access-log-sink.ts).
 */
import type { AccessFormatConfig } from '../config/access-log-schema.js'
import { compileAccessFormat } from './access-format.js'
import { JsonAccessFormat } from './access-line-json.js'
import { AccessLogSink } from './access-log-sink.js'
import type { AccessLineFormat, AccessRecord } from './access-record.js'

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

  /** The access log a config's `log` section describes (`log.access`, `log.accessFormat`). */
  static fromConfig(log: { readonly access: string; readonly accessFormat: AccessFormatConfig }): AccessLog {
    return new AccessLog(log.access, compileAccessFormat(log.accessFormat))
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
