/**
 * Latch's OTLP/JSON writer for request spans against the OpenTelemetry SDK's own JSON serializer:
 * the same span must decode to the same ids, name, kind, times, flags, attributes and status, and
 * hostile strings must stay valid JSON.
 */
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { describe, expect, it } from 'vitest'
import { requestSpanSerializer, unixNanos } from '../../../src/observability/otlp-span-json.js'
import { RequestSpan, type SpanSource } from '../../../src/observability/request-span.js'

interface KeyValue {
  key: string
  value: { stringValue?: string; intValue?: string | number }
}
interface DecodedSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  flags?: number
  name: string
  kind: number
  startTimeUnixNano: string | number
  endTimeUnixNano: string | number
  attributes: KeyValue[]
  status: { code?: number; message?: string }
}
interface Decoded {
  resourceSpans: { resource: { attributes: KeyValue[] }; scopeSpans: { scope: { name: string }; spans: DecodedSpan[] }[] }[]
}

function source(overrides: Partial<SpanSource> = {}): SpanSource {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '52b0da80eda6ae0f', parentSpanId: 'b7ad6b7169203331', traceFlags: 1, startedAt: performance.now() - 12.345678,
    requestId: 'r-1', method: 'GET', hostHeader: 'example.test', logPath: '/a', status: 200, upstreamStatus: undefined, durationMs: 12, bytesOut: 10, routeDescription: '* / Prefix',
    poolName: 'web', endpointId: '10.0.0.1:8080', attempts: 2, errorCode: undefined, clientIp: '192.0.2.7', affinityOutcome: 'hit', httpVersion: '1.1',
    ...overrides,
  }
}

/** A span as compared: attributes as an object, times and integers as strings. */
function normalized(span: DecodedSpan): object {
  return {
    traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId, name: span.name, kind: span.kind,
    start: String(span.startTimeUnixNano), end: String(span.endTimeUnixNano), flags: span.flags,
    attributes: Object.fromEntries(span.attributes.map((entry) => [entry.key, String(entry.value.stringValue ?? entry.value.intValue)])),
    status: { code: span.status.code ?? 0, message: span.status.message ?? '' },
  }
}

function decode(bytes: Uint8Array | undefined): Decoded {
  return JSON.parse(Buffer.from(bytes as Uint8Array).toString('utf8')) as Decoded
}

describe('OTLP/JSON for request spans', () => {
  const resource = resourceFromAttributes({ 'service.name': 'edge' })
  const spans = [
    new RequestSpan(source(), performance.timeOrigin + performance.now(), resource, { name: 'latch' }),
    new RequestSpan(source({ parentSpanId: '', status: 502, errorCode: 'ERR_UPSTREAM_CONNECT', affinityOutcome: undefined, routeDescription: undefined, logPath: '/"quoted"\u0001\u00e9' }), performance.timeOrigin + performance.now(), resource, { name: 'latch' }),
  ]

  it('decodes to what the SDK\'s serializer writes for the same spans', () => {
    const ours = decode(requestSpanSerializer('edge').serializeRequest(spans))
    const sdk = decode(JsonTraceSerializer.serializeRequest(spans))
    expect(ours.resourceSpans[0]?.resource.attributes).toEqual([{ key: 'service.name', value: { stringValue: 'edge' } }])
    const oursSpans = ours.resourceSpans[0]?.scopeSpans[0]?.spans.map(normalized)
    const sdkSpans = sdk.resourceSpans[0]?.scopeSpans[0]?.spans.map(normalized)
    expect(oursSpans).toEqual(sdkSpans)
    expect(oursSpans).toHaveLength(2)
    expect(ours.resourceSpans[0]?.scopeSpans[0]?.scope.name).toBe('latch')
  })

  it('writes the facts: server kind, remote parent flags, error status for 5xx, hostile strings intact', () => {
    const [continued, started] = decode(requestSpanSerializer('edge').serializeRequest(spans)).resourceSpans[0]?.scopeSpans[0]?.spans ?? []
    expect(continued).toMatchObject({ kind: 2, flags: 0x301, parentSpanId: 'b7ad6b7169203331', name: 'GET * / Prefix', status: {} })
    expect(started).toMatchObject({ kind: 2, flags: 0x101, name: 'GET', status: { code: 2, message: 'ERR_UPSTREAM_CONNECT' } })
    expect(started?.parentSpanId).toBeUndefined()
    expect(started?.attributes.find((entry) => entry.key === 'url.path')?.value.stringValue).toBe('/"quoted"\u0001\u00e9')
  })

  it('writes nanoseconds without losing the sub-millisecond part', () => {
    expect(unixNanos(1796685176833.2131)).toMatch(/^1796685176833213\d{3}$/)
    expect(unixNanos(1796685176833)).toBe('1796685176833000000')
    expect(unixNanos(1796685176833.9999999)).toBe('1796685176834000000')
  })
})
