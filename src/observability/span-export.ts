/**
 * @module One OpenTelemetry span per proxied request, exported over OTLP/HTTP (JSON) in the background.
 *
 * The SDK is loaded with dynamic imports only when `tracing.otlp` is set, so a Latch that does not
 * export spans never loads it (start memory, bench/RESULTS.md). The span is made when the request has
 * finished, from what the exchange recorded (start time, route, pool, endpoint, attempts, affinity,
 * status), and handed to a BatchSpanProcessor: the request pays for building the span, while
 * serialising and sending happen in batches off the request path.
 *
 * Latch chose its span id (and for a trace it started, the trace id) before the request went
 * upstream, because the upstream's `traceparent` names it; an IdGenerator that returns ids set just
 * before `startSpan` makes the SDK's span carry exactly those ids (JavaScript runs one call at a time,
 * so nothing can come in between).
 */
import type { Attributes } from '@opentelemetry/api'
import type { IdGenerator } from '@opentelemetry/sdk-trace-base'
import type { TracingConfig } from '../config/tracing-schema.js'
import type { AccessRecord } from './access-record.js'
import { LogThrottle } from './log-throttle.js'
import type { Logger } from './logger.js'
import { isSampled, type RequestTrace } from './trace-context.js'

/** A finished request as the span is made from it (the exchange implements it). */
export interface SpanSource extends AccessRecord, Readonly<RequestTrace> {
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number
}

/** Takes finished requests; exports the sampled ones. */
export interface SpanRecorder {
  record(request: SpanSource): void
  /** Exports what is queued, then stops (at shutdown). */
  shutdown(): Promise<void>
}

/** Spans wait at most this long before a batch is sent (the SDK's default is 5 s). */
const BATCH_DELAY_MS = 1000
/** Export failures are logged at most once a minute. */
const FAILURE_LOG = new LogThrottle(60_000)

/** Returns the ids set before each `startSpan` (see the module comment). */
class PresetIds implements IdGenerator {
  traceId = ''
  spanId = ''
  generateTraceId(): string {
    return this.traceId
  }
  generateSpanId(): string {
    return this.spanId
  }
}

/** Loads the SDK and starts exporting to `tracing.otlp`; undefined when export is not configured. */
export async function startSpanExport(tracing: TracingConfig, logger: Logger): Promise<SpanRecorder | undefined> {
  const otlp = tracing.otlp
  if (otlp === undefined) return undefined
  const [api, sdk, resources, otlpHttp] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/exporter-trace-otlp-http'),
  ])
  // The SDK reports failed exports through its diagnostic logger, silent unless one is set.
  api.diag.setLogger(
    {
      error: (message: string) => exportFailed(logger, otlp.endpoint, message),
      warn: (message: string) => exportFailed(logger, otlp.endpoint, message),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    { logLevel: api.DiagLogLevel.WARN, suppressOverrideMessage: true },
  )
  const ids = new PresetIds()
  const exporter = new otlpHttp.OTLPTraceExporter({ url: otlp.endpoint, headers: otlp.headers, timeoutMillis: otlp.timeout })
  const provider = new sdk.BasicTracerProvider({
    resource: resources.resourceFromAttributes({ 'service.name': tracing.serviceName }),
    // Latch samples itself (trace-context.ts) and makes spans only for sampled requests.
    sampler: new sdk.AlwaysOnSampler(),
    idGenerator: ids,
    spanProcessors: [new sdk.BatchSpanProcessor(exporter, { scheduledDelayMillis: BATCH_DELAY_MS })],
  })
  const tracer = provider.getTracer('latch')
  const kind = api.SpanKind.SERVER
  const errorStatus = api.SpanStatusCode.ERROR
  const context = api.context.active()
  logger.info({ endpoint: otlp.endpoint, serviceName: tracing.serviceName }, 'exporting spans over OTLP/HTTP')

  return {
    record(request: SpanSource): void {
      if (!isSampled(request.traceFlags) || request.traceId === undefined || request.traceId === '') return
      ids.traceId = request.traceId
      ids.spanId = request.spanId as string
      const parentSpanId = request.parentSpanId ?? ''
      const parent = parentSpanId === '' ? context : api.trace.setSpanContext(context, { traceId: request.traceId, spanId: parentSpanId, traceFlags: request.traceFlags as number, isRemote: true })
      const route = request.routeDescription
      const span = tracer.startSpan(route === undefined ? request.method : `${request.method} ${route}`, { kind, startTime: performance.timeOrigin + request.startedAt, attributes: attributesOf(request) }, parent)
      const status = request.status
      if (status >= 500) span.setStatus({ code: errorStatus, message: request.errorCode ?? `HTTP ${status}` })
      span.end()
    },
    async shutdown(): Promise<void> {
      await provider.shutdown()
    },
  }
}

/** The span's attributes: HTTP semantic conventions, and Latch's own under `latch.`. */
function attributesOf(request: SpanSource): Attributes {
  const attributes: Attributes = {
    'http.request.method': request.method,
    'url.path': request.logPath,
    'http.response.status_code': request.status,
    'client.address': request.clientIp,
    'latch.request_id': request.requestId,
    'latch.attempts': request.attempts,
  }
  if (request.httpVersion !== undefined) attributes['network.protocol.version'] = request.httpVersion
  if (request.routeDescription !== undefined) attributes['latch.route'] = request.routeDescription
  if (request.poolName !== undefined) attributes['latch.pool'] = request.poolName
  if (request.endpointId !== undefined) attributes['latch.endpoint'] = request.endpointId
  if (request.affinityOutcome !== undefined) attributes['latch.affinity'] = request.affinityOutcome
  if (request.errorCode !== undefined) attributes['latch.error_code'] = request.errorCode
  return attributes
}

function exportFailed(logger: Logger, endpoint: string, message: string): void {
  const suppressed = FAILURE_LOG.admit(performance.now())
  if (suppressed !== undefined) logger.warn({ endpoint, err: message, suppressed }, 'span export failed; spans are dropped until the collector answers')
}
