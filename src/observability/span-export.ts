/**
 * @module One OpenTelemetry span per proxied request, exported over OTLP/HTTP (JSON) in the background.
 *
 * The SDK packages are loaded with dynamic imports only when `tracing.otlp` is set, so a Latch that
 * does not export spans never loads them (start memory, bench/RESULTS.md). When a sampled request has
 * finished, its span (request-span.ts: ids chosen before the request went upstream, route, pool,
 * endpoint, attempts, affinity, status) goes to the SDK's BatchSpanProcessor; batches of up to 512
 * are serialised by otlp-span-json.ts and sent by the SDK's OTLP/HTTP transport (timeout, retries with
 * backoff on 429/502/503/504, a bound on concurrent exports). The request pays for copying its fields;
 * serialising and sending happen once per batch. A full queue drops spans rather than slow the proxy.
 */
import type { TracingConfig } from '../config/tracing-schema.js'
import { LogThrottle } from './log-throttle.js'
import type { Logger } from './logger.js'
import { requestSpanSerializer } from './otlp-span-json.js'
import { RequestSpan, type SpanSource } from './request-span.js'
import { isSampled } from './trace-context.js'

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

/** Loads the SDK and starts exporting to `tracing.otlp`; undefined when export is not configured. */
export async function startSpanExport(tracing: TracingConfig, logger: Logger): Promise<SpanRecorder | undefined> {
  const otlp = tracing.otlp
  if (otlp === undefined) return undefined
  const [api, sdk, resources, exporterBase, nodeHttp, transformer] = await Promise.all([
    import('@opentelemetry/api'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/otlp-exporter-base'),
    import('@opentelemetry/otlp-exporter-base/node-http'),
    import('@opentelemetry/otlp-transformer'),
  ])
  // The SDK reports failed exports and dropped spans through its diagnostic logger, silent unless one is set.
  const failed = (message: string): void => exportFailed(logger, otlp.endpoint, message)
  const quiet = (): void => undefined
  api.diag.setLogger({ error: failed, warn: failed, info: quiet, debug: quiet, verbose: quiet }, { logLevel: api.DiagLogLevel.WARN, suppressOverrideMessage: true })
  const httpOptions = nodeHttp.convertLegacyHttpOptions({ url: otlp.endpoint, headers: otlp.headers, timeoutMillis: otlp.timeout }, 'TRACES', 'v1/traces', { 'Content-Type': 'application/json' })
  // The component type is what the SDK's self-metrics call the exporter (none are recorded without a meter provider).
  const delegate = nodeHttp.createOtlpHttpExportDelegate(httpOptions, requestSpanSerializer(tracing.serviceName), 'otlp_http_span_exporter', transformer.TraceExporterMetricsHelper, undefined)
  const exporter = new exporterBase.OTLPExporterBase(delegate)
  const processor = new sdk.BatchSpanProcessor(exporter, { scheduledDelayMillis: BATCH_DELAY_MS })
  const resource = resources.resourceFromAttributes({ 'service.name': tracing.serviceName })
  const scope = { name: 'latch' }
  logger.info({ endpoint: otlp.endpoint, serviceName: tracing.serviceName }, 'exporting spans over OTLP/HTTP')

  return {
    record(request: SpanSource): void {
      if (!isSampled(request.traceFlags) || request.traceId === undefined || request.traceId === '') return
      const span = new RequestSpan(request, performance.timeOrigin + performance.now(), resource, scope)
      // The batch processor's onStart does nothing; the span was over before it was made anyway.
      processor.onEnd(span)
    },
    async shutdown(): Promise<void> {
      await processor.shutdown()
    },
  }
}

function exportFailed(logger: Logger, endpoint: string, message: string): void {
  const suppressed = FAILURE_LOG.admit(performance.now())
  if (suppressed !== undefined) logger.warn({ endpoint, err: message, suppressed }, 'span export failed; spans are dropped until the collector answers')
}
