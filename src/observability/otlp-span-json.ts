/**
 * @module OTLP/JSON for request spans: the body of an OTLP/HTTP traces export, written as one string.
 *
 * The SDK's serializer builds an object tree per span and calls JSON.stringify on it; for Latch's one
 * fixed span shape that was most of the cost of exporting (bench/RESULTS.md), so, as for the access
 * line, the JSON is written by a template: ids are hex (as OTLP/JSON wants them), times decimal
 * nanoseconds, every string escaped to ASCII by jsonString. The encoding is OTLP's JSON mapping of
 * ExportTraceServiceRequest (opentelemetry-proto, `application/json`).
 */
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer'
import { jsonString } from './json-string.js'
import { RequestSpan, STATUS_ERROR } from './request-span.js'

/** OTLP span flags above the W3C trace flags: whether the parent's remoteness is known, and that it is remote (the client's span). */
const HAS_IS_REMOTE = 0x100
const IS_REMOTE = 0x200

/** Epoch milliseconds (fraction: sub-millisecond) as decimal nanoseconds, without BigInt. */
export function unixNanos(epochMs: number): string {
  let ms = Math.floor(epochMs)
  let nanos = Math.round((epochMs - ms) * 1e6)
  if (nanos >= 1e6) {
    ms += 1
    nanos -= 1e6
  }
  return `${ms}${String(nanos).padStart(6, '0')}`
}

function stringAttribute(key: string, value: string | undefined): string {
  return value === undefined ? '' : `,{"key":"${key}","value":{"stringValue":${jsonString(value)}}}`
}

/** One span object of `scopeSpans[].spans`. */
export function spanJson(span: RequestSpan): string {
  const parent = span.parentSpanId === '' ? '' : `"parentSpanId":"${span.parentSpanId}",`
  const status = span.statusCode >= 500 ? `{"code":${STATUS_ERROR},"message":${jsonString(span.errorCode ?? `HTTP ${span.statusCode}`)}}` : '{}'
  return (
    `{"traceId":"${span.traceId}","spanId":"${span.spanId}",${parent}"flags":${(span.parentSpanId === '' ? HAS_IS_REMOTE : HAS_IS_REMOTE | IS_REMOTE) | span.traceFlags},"name":${jsonString(span.name)},"kind":${span.kind + 1}` +
    `,"startTimeUnixNano":"${unixNanos(span.startMs)}","endTimeUnixNano":"${unixNanos(span.endMs)}","attributes":[` +
    `{"key":"http.request.method","value":{"stringValue":${jsonString(span.method)}}}` +
    `${stringAttribute('url.path', span.path)},{"key":"http.response.status_code","value":{"intValue":${span.statusCode}}}` +
    `${stringAttribute('client.address', span.clientIp)}${stringAttribute('network.protocol.version', span.httpVersion)}` +
    `${stringAttribute('latch.request_id', span.requestId)},{"key":"latch.attempts","value":{"intValue":${span.attempts}}}` +
    `${stringAttribute('latch.route', span.route)}${stringAttribute('latch.pool', span.pool)}${stringAttribute('latch.endpoint', span.endpoint)}` +
    `${stringAttribute('latch.affinity', span.affinity)}${stringAttribute('latch.error_code', span.errorCode)}],"status":${status}}`
  )
}

/** The serializer of an OTLP/HTTP JSON export of request spans (`serviceName` is the resource's `service.name`). */
export function requestSpanSerializer(serviceName: string): ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  const head = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":${jsonString(serviceName)}}}]},"scopeSpans":[{"scope":{"name":"latch"},"spans":[`
  return {
    serializeRequest(spans: ReadableSpan[]): Uint8Array {
      let body = head
      for (let i = 0; i < spans.length; i++) {
        // Only request spans reach this exporter (span-export.ts makes them all).
        body += (i === 0 ? '' : ',') + spanJson(spans[i] as RequestSpan)
      }
      return Buffer.from(`${body}]}]}]}`, 'latin1')
    },
    deserializeResponse(data: Uint8Array): IExportTraceServiceResponse {
      if (data.length === 0) return {}
      try {
        return JSON.parse(Buffer.from(data).toString('utf8')) as IExportTraceServiceResponse
      } catch {
        return {}
      }
    },
  }
}
