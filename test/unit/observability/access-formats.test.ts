/**
 * The access-line formats `log.accessFormat` names, against known lines: `common` and `combined`
 * (Apache/nginx), a JSON field list, and the default JSON line with tracing on.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { compileAccessFormat } from '../../../src/observability/access-format.js'
import { clfEscape } from '../../../src/observability/access-line-clf.js'
import type { AccessRecord } from '../../../src/observability/access-record.js'

const NOW = Date.UTC(2026, 11, 7, 9, 4, 8, 123)

function record(overrides: Partial<AccessRecord> = {}, headers: Record<string, string> = {}): AccessRecord {
  return {
    requestId: 'r-1', method: 'GET', hostHeader: 'example.test', logPath: '/a/b', status: 200, upstreamStatus: undefined, durationMs: 1.5, bytesOut: 2326,
    routeDescription: 'example.test / Prefix', poolName: 'web', endpointId: '10.0.0.1:8080', attempts: 1, errorCode: undefined, clientIp: '192.0.2.7', affinityOutcome: 'hit',
    httpVersion: '1.1', query: 'q=1&token=x', upstreamConnectMs: 0.25, upstreamFirstByteMs: 1.125, upstreamTotalMs: 1.4,
    requestHeader: (name) => headers[name],
    ...overrides,
  }
}

describe('access-line formats', () => {
  beforeEach(() => {
    vi.useFakeTimers()
    vi.setSystemTime(NOW)
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('common: host ident user [time] "request line" status bytes', () => {
    expect(compileAccessFormat('common').format(record())).toBe('192.0.2.7 - - [07/Dec/2026:09:04:08 +0000] "GET /a/b HTTP/1.1" 200 2326\n')
  })

  it('combined: common plus quoted Referer and User-Agent, "-" for missing values and zero bytes', () => {
    const format = compileAccessFormat('combined')
    expect(format.format(record({}, { referer: 'https://example.test/from?x=1', 'user-agent': 'curl/8.5.0' }))).toBe(
      '192.0.2.7 - - [07/Dec/2026:09:04:08 +0000] "GET /a/b HTTP/1.1" 200 2326 "https://example.test/from?x=1" "curl/8.5.0"\n',
    )
    expect(format.format(record({ bytesOut: 0, status: 304, httpVersion: '2.0' }))).toBe('192.0.2.7 - - [07/Dec/2026:09:04:08 +0000] "GET /a/b HTTP/2.0" 304 - "-" "-"\n')
  })

  it('escapes quotes, backslashes, control characters and non-ASCII bytes as \\xHH (nginx), so no value breaks the quoting', () => {
    const line = compileAccessFormat('combined').format(record({}, { 'user-agent': 'evil" "\\\n\u00e9\u20ac', referer: '\u0000' }))
    expect(line).toBe('192.0.2.7 - - [07/Dec/2026:09:04:08 +0000] "GET /a/b HTTP/1.1" 200 2326 "\\x00" "evil\\x22 \\x22\\x5C\\x0A\\xE9\\xE2\\x82\\xAC"\n')
    expect(clfEscape('plain')).toBe('plain')
    // The line splits into the fields log tooling expects: every quote in it is one of the format's.
    expect(line.match(/"/g)).toHaveLength(6)
  })

  it('a JSON field list: log and time, then the listed fields in the listed order, absent ones left out', () => {
    const format = compileAccessFormat(['status', 'path', 'query', 'userAgent', 'referer', 'upstreamConnectMs', 'upstreamFirstByteMs', 'upstreamTotalMs', 'header:X-Tenant', 'traceId', 'protocol'])
    const line = format.format(record({}, { 'user-agent': 'ua "1"', 'x-tenant': 'acme' }))
    expect(line).toBe('{"log":"access","time":"2026-12-07T09:04:08.123Z","status":200,"path":"/a/b","query":"q=1&token=x","userAgent":"ua \\"1\\"","upstreamConnectMs":0.25,"upstreamFirstByteMs":1.125,"upstreamTotalMs":1.4,"header:x-tenant":"acme","protocol":"HTTP/1.1"}\n')
    expect(JSON.parse(line)).toMatchObject({ status: 200, userAgent: 'ua "1"' })
  })

  it('the default JSON line has no headers, query or timing, and adds traceId and spanId after reqId only when traced', () => {
    const format = compileAccessFormat('json')
    const plain = JSON.parse(format.format(record({}, { 'user-agent': 'ua', referer: 'r' }))) as Record<string, unknown>
    expect(Object.keys(plain)).toEqual(['log', 'time', 'reqId', 'method', 'host', 'path', 'status', 'durationMs', 'bytes', 'route', 'pool', 'endpoint', 'attempts', 'clientIp', 'affinity'])
    const traced = JSON.parse(format.format(record({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' }))) as Record<string, unknown>
    expect(Object.keys(traced).slice(2, 5)).toEqual(['reqId', 'traceId', 'spanId'])
    expect(traced.traceId).toBe('0af7651916cd43dd8448eb211c80319c')
  })
})
