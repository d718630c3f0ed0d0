/**
 * @module A JSON access line with the fields the user listed (`log.accessFormat: [reqId, status, …]`).
 *
 * Compiled once at config load into one writer per field, each with its `,"name":` prefix ready; a
 * line is `{"log":"access","time":…` followed by what each writer returns, in the listed order. A
 * field whose value is undefined is left out, as in the default format. Strings are escaped to ASCII
 * by jsonString, so the line keeps the sink's ASCII guarantee.
 */
import type { AccessLineFormat, AccessRecord } from './access-record.js'
import type { AccessFieldName } from './access-fields.js'
import { IsoClock } from './iso-clock.js'
import { jsonString } from './json-string.js'

/** Writes one field: `,"name":value`, or '' when the record has no value for it. */
type FieldWriter = (record: AccessRecord) => string

function text(name: string, read: (record: AccessRecord) => string | undefined): FieldWriter {
  const prefix = `,${jsonString(name)}:`
  return (record) => {
    const value = read(record)
    return value === undefined || value === '' ? '' : prefix + jsonString(value)
  }
}

function number(name: string, read: (record: AccessRecord) => number | undefined): FieldWriter {
  const prefix = `,${jsonString(name)}:`
  return (record) => {
    const value = read(record)
    return value === undefined ? '' : prefix + value
  }
}

/** How each named field is read from the record. */
const FIELDS: Record<AccessFieldName, (name: string) => FieldWriter> = {
  reqId: (name) => text(name, (r) => r.requestId),
  method: (name) => text(name, (r) => r.method),
  host: (name) => text(name, (r) => r.hostHeader),
  path: (name) => text(name, (r) => r.logPath),
  status: (name) => number(name, (r) => r.status),
  upstreamStatus: (name) => number(name, (r) => r.upstreamStatus),
  durationMs: (name) => number(name, (r) => r.durationMs),
  bytes: (name) => number(name, (r) => r.bytesOut),
  route: (name) => text(name, (r) => r.routeDescription),
  rule: (name) => text(name, (r) => r.ruleId),
  pool: (name) => text(name, (r) => r.poolName),
  endpoint: (name) => text(name, (r) => r.endpointId),
  attempts: (name) => number(name, (r) => r.attempts),
  code: (name) => text(name, (r) => r.errorCode),
  clientIp: (name) => text(name, (r) => r.clientIp),
  affinity: (name) => text(name, (r) => r.affinityOutcome),
  upgrade: (name) => text(name, (r) => r.upgrade),
  bytesIn: (name) => number(name, (r) => r.bytesIn),
  outcome: (name) => text(name, (r) => r.outcome),
  traceId: (name) => text(name, (r) => r.traceId),
  spanId: (name) => text(name, (r) => r.spanId),
  query: (name) => text(name, (r) => r.query),
  protocol: (name) => text(name, (r) => (r.httpVersion === undefined ? undefined : `HTTP/${r.httpVersion}`)),
  userAgent: (name) => text(name, (r) => r.requestHeader?.('user-agent')),
  referer: (name) => text(name, (r) => r.requestHeader?.('referer')),
  upstreamConnectMs: (name) => number(name, (r) => r.upstreamConnectMs),
  upstreamFirstByteMs: (name) => number(name, (r) => r.upstreamFirstByteMs),
  upstreamTotalMs: (name) => number(name, (r) => r.upstreamTotalMs),
}

/** The writer of one listed name: a known field, or `header:NAME` (checked by the config schema). */
function writerFor(name: string): FieldWriter {
  if (name.startsWith('header:')) {
    const header = name.slice('header:'.length).toLowerCase()
    return text(`header:${header}`, (r) => r.requestHeader?.(header))
  }
  return FIELDS[name as AccessFieldName](name)
}

/** A JSON line of the listed fields, after `log` and `time`. */
export class FieldListAccessFormat implements AccessLineFormat {
  readonly #clock = new IsoClock()
  readonly #writers: readonly FieldWriter[]

  constructor(fields: readonly string[]) {
    this.#writers = fields.map(writerFor)
  }

  format(record: AccessRecord): string {
    let line = `{"log":"access","time":"${this.#clock.now()}"`
    for (const write of this.#writers) line += write(record)
    return `${line}}\n`
  }
}
