/**
 * @module The span of one proxied request, as the SDK's span processors and exporters take it.
 *
 * The SDK's own Span (made by a Tracer) validates and copies attributes and keeps timers and context
 * for a span that is still running; Latch's span is over when it is made, with ids already chosen, so
 * it is a plain record of the request's fields that implements ReadableSpan (the attributes are only
 * built when something other than Latch's serializer asks for them). otlp-span-json.ts writes it.
 */
import type { Attributes, HrTime, SpanContext } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import type { AffinityOutcome } from '../affinity/session-affinity.js'
import type { AccessRecord } from './access-record.js'
import type { RequestTrace } from './trace-context.js'

/** A finished request as its span is made from it (the exchange implements it). */
export interface SpanSource extends AccessRecord, Readonly<RequestTrace> {
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number
}

/** OpenTelemetry's SpanKind.SERVER and SpanStatusCode values (numbers in OTLP). */
export const SPAN_KIND_SERVER = 1
export const STATUS_UNSET = 0
export const STATUS_ERROR = 2

const NO_LINKS: ReadableSpan['links'] = []
const NO_EVENTS: ReadableSpan['events'] = []

function hrTime(epochMs: number): HrTime {
  const seconds = Math.floor(epochMs / 1000)
  return [seconds, Math.round((epochMs - seconds * 1000) * 1e6)]
}

/** A finished request's span: what the exporter needs, copied from the exchange when it finished. */
export class RequestSpan implements ReadableSpan {
  readonly kind = SPAN_KIND_SERVER
  readonly ended = true
  readonly droppedAttributesCount = 0
  readonly droppedEventsCount = 0
  readonly droppedLinksCount = 0
  readonly links = NO_LINKS
  readonly events = NO_EVENTS
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string
  readonly traceFlags: number
  /** Epoch milliseconds (with microseconds as the fraction). */
  readonly startMs: number
  readonly endMs: number
  readonly method: string
  readonly path: string
  readonly statusCode: number
  readonly clientIp: string
  readonly requestId: string
  readonly attempts: number
  readonly httpVersion: string | undefined
  readonly route: string | undefined
  readonly pool: string | undefined
  readonly endpoint: string | undefined
  readonly affinity: AffinityOutcome | undefined
  readonly errorCode: string | undefined
  /** The client's span; absent for a trace Latch started. */
  readonly parentSpanContext?: SpanContext

  constructor(
    request: SpanSource,
    endMs: number,
    readonly resource: ReadableSpan['resource'],
    readonly instrumentationScope: ReadableSpan['instrumentationScope'],
  ) {
    this.traceId = request.traceId as string
    this.spanId = request.spanId as string
    this.parentSpanId = request.parentSpanId ?? ''
    this.traceFlags = request.traceFlags as number
    this.startMs = performance.timeOrigin + request.startedAt
    this.endMs = endMs
    this.method = request.method
    this.path = request.logPath
    this.statusCode = request.status
    this.clientIp = request.clientIp
    this.requestId = request.requestId
    this.attempts = request.attempts
    this.httpVersion = request.httpVersion
    this.route = request.routeDescription
    this.pool = request.poolName
    this.endpoint = request.endpointId
    this.affinity = request.affinityOutcome
    this.errorCode = request.errorCode
    if (this.parentSpanId !== '') this.parentSpanContext = { traceId: this.traceId, spanId: this.parentSpanId, traceFlags: this.traceFlags, isRemote: true }
  }

  get name(): string {
    return this.route === undefined ? this.method : `${this.method} ${this.route}`
  }

  spanContext(): SpanContext {
    return { traceId: this.traceId, spanId: this.spanId, traceFlags: this.traceFlags }
  }

  get startTime(): HrTime {
    return hrTime(this.startMs)
  }

  get endTime(): HrTime {
    return hrTime(this.endMs)
  }

  get duration(): HrTime {
    const ms = Math.max(0, this.endMs - this.startMs)
    return [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)]
  }

  /** 5xx answers are errors (OpenTelemetry's HTTP server span rule); the message is Latch's error code. */
  get status(): ReadableSpan['status'] {
    return this.statusCode >= 500 ? { code: STATUS_ERROR, message: this.errorCode ?? `HTTP ${this.statusCode}` } : { code: STATUS_UNSET }
  }

  /** The attributes otlp-span-json.ts writes, as an object (for other exporters). */
  get attributes(): Attributes {
    const attributes: Attributes = {
      'http.request.method': this.method,
      'url.path': this.path,
      'http.response.status_code': this.statusCode,
      'client.address': this.clientIp,
      'latch.request_id': this.requestId,
      'latch.attempts': this.attempts,
    }
    if (this.httpVersion !== undefined) attributes['network.protocol.version'] = this.httpVersion
    if (this.route !== undefined) attributes['latch.route'] = this.route
    if (this.pool !== undefined) attributes['latch.pool'] = this.pool
    if (this.endpoint !== undefined) attributes['latch.endpoint'] = this.endpoint
    if (this.affinity !== undefined) attributes['latch.affinity'] = this.affinity
    if (this.errorCode !== undefined) attributes['latch.error_code'] = this.errorCode
    return attributes
  }
}
