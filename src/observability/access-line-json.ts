/**
 * @module The default access-line format: one JSON object per line, fields in a fixed order.
 *
 * Compiled by hand for the fixed record: string concatenation, one escaper call per string field, no
 * object per request. The output is what `JSON.stringify` of the record would give, fields that are
 * undefined left out, except that every non-ASCII character is written as `\uXXXX` (see json-string.ts).
 */
import type { AccessLineFormat, AccessRecord } from './access-record.js'
import { IsoClock } from './iso-clock.js'
import { jsonString } from './json-string.js'
import { DEFAULT_ACCESS_FIELDS } from './access-fields.js'

/** The documented fields, in the order they are written (the README lists them; a test checks both); `traceId` and `spanId` follow `reqId` when tracing is on. */
export const JSON_ACCESS_FIELDS = ['log', 'time', ...DEFAULT_ACCESS_FIELDS] as const

/** `,"name":"value"` for an optional string field; nothing when it is undefined. */
function optional(name: string, value: string | undefined): string {
  return value === undefined ? '' : `,"${name}":${jsonString(value)}`
}

/** `,"traceId":…,"spanId":…` when the request is traced (ids are hex: no escaping); nothing otherwise. */
function trace(record: AccessRecord): string {
  const traceId = record.traceId
  return traceId === undefined || traceId === '' ? '' : `,"traceId":"${traceId}","spanId":"${record.spanId ?? ''}"`
}

/** `,"name":number` for an optional number field; nothing when it is undefined. */
function optionalNumber(name: string, value: number | undefined): string {
  return value === undefined ? '' : `,"${name}":${value}`
}

/** The JSON line format (`{"log":"access","time":…}`). */
export class JsonAccessFormat implements AccessLineFormat {
  readonly #clock = new IsoClock()

  format(record: AccessRecord): string {
    return (
      `{"log":"access","time":"${this.#clock.now()}","reqId":${jsonString(record.requestId)}${trace(record)},"method":${jsonString(record.method)}` +
      `,"host":${jsonString(record.hostHeader)},"path":${jsonString(record.logPath)},"status":${record.status}${optionalNumber('upstreamStatus', record.upstreamStatus)}` +
      `,"durationMs":${record.durationMs},"bytes":${record.bytesOut}${optional('route', record.routeDescription)}` +
      // The rule's id only when it says more than the route (HTTPRoute rules, canaries); Ingress paths are their own rule.
      `${record.ruleId === record.routeDescription ? '' : optional('rule', record.ruleId)}${optional('pool', record.poolName)}${optional('endpoint', record.endpointId)},"attempts":${record.attempts}` +
      `${optional('code', record.errorCode)},"clientIp":${jsonString(record.clientIp)}${optional('affinity', record.affinityOutcome)}` +
      `${optional('upgrade', record.upgrade)}${optionalNumber('bytesIn', record.bytesIn)}${optional('outcome', record.outcome)}}\n`
    )
  }
}
