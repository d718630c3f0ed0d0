/**
 * @module The names a user may list in `log.accessFormat` (a JSON line with chosen fields), apart from
 * the code that writes them so the config schema can check names without loading the formats.
 */

/** The fields of the default JSON line, in its order (access-line-json.ts writes exactly these, plus traceId and spanId when tracing is on). */
export const DEFAULT_ACCESS_FIELDS = ['reqId', 'method', 'host', 'path', 'status', 'upstreamStatus', 'durationMs', 'bytes', 'route', 'rule', 'pool', 'endpoint', 'attempts', 'code', 'clientIp', 'affinity', 'upgrade', 'bytesIn', 'outcome'] as const

/** Fields only written when named: request details that may be sensitive, and upstream timing. */
export const OPTIONAL_ACCESS_FIELDS = ['traceId', 'spanId', 'query', 'protocol', 'userAgent', 'referer', 'upstreamConnectMs', 'upstreamFirstByteMs', 'upstreamTotalMs'] as const

export type AccessFieldName = (typeof DEFAULT_ACCESS_FIELDS)[number] | (typeof OPTIONAL_ACCESS_FIELDS)[number]

/** Every named field. */
export const ACCESS_FIELDS: readonly AccessFieldName[] = [...DEFAULT_ACCESS_FIELDS, ...OPTIONAL_ACCESS_FIELDS]

/** `header:NAME` logs the request header NAME (a token, RFC 9110 §5.1), under the key `header:name`. */
export const HEADER_FIELD = /^header:[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/** The access-line formats by name; a list of fields is the JSON format with those fields. */
export const ACCESS_FORMATS = ['json', 'common', 'combined'] as const
export type AccessFormatName = (typeof ACCESS_FORMATS)[number]

/** True for a name `log.accessFormat` accepts in a field list. */
export function isAccessField(name: string): boolean {
  return (ACCESS_FIELDS as readonly string[]).includes(name) || HEADER_FIELD.test(name)
}
