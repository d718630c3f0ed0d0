/**
 * @module The `tracing` section: W3C Trace Context participation and optional OTLP span export.
 */
import { z } from 'zod'
import { duration, ratio } from './schema-types.js'

/** An OTLP/HTTP traces URL: http(s), with the path the collector serves (`/v1/traces` by convention). */
const otlpUrl = () =>
  z.string({ error: 'expected a URL such as http://otel-collector:4318/v1/traces' }).superRefine((value, ctx) => {
    let url: URL | undefined
    try {
      url = new URL(value)
    } catch {
      url = undefined
    }
    if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      ctx.addIssue({ code: 'custom', input: value, message: `invalid OTLP endpoint ${JSON.stringify(value)} — expected an http(s) URL such as http://otel-collector:4318/v1/traces` })
    }
  })

const Otlp = z.strictObject({
  endpoint: otlpUrl().meta({ description: 'OTLP/HTTP traces URL of the collector, path included, e.g. `http://otel-collector:4318/v1/traces` (spans are sent as OTLP JSON).' }),
  headers: z.record(z.string(), z.string(), { error: 'expected a map of header names to values' }).default({}).meta({ description: 'Headers sent with every export (e.g. `authorization: Bearer ${OTLP_TOKEN}`).' }),
  timeout: duration().prefault('10s').meta({ description: 'Longest an export request may take before it is abandoned (its spans are dropped).' }),
})

export const Tracing = z
  .strictObject({
    enabled: z.boolean().optional().meta({ description: 'Take part in W3C Trace Context: each request gets a span id of Latch\'s own, the upstream receives `traceparent` with Latch\'s span as its parent, and the access line carries `traceId` and `spanId`. Off: `traceparent`/`tracestate` pass through untouched. Default: `false`, or `true` when `otlp` is set.' }),
    startTraces: z.boolean().default(true).meta({ description: 'Start a trace for requests that come without a valid `traceparent` (an invalid one is never forwarded: the trace restarts, per the specification). `false`: only continue traces clients started.' }),
    sampleRatio: ratio().default(1).meta({ description: 'Share of the traces Latch starts that are sampled (flag `01` sent upstream; only sampled requests are exported). A client\'s `traceparent` keeps its own sampled flag (parent-based sampling).' }),
    serviceName: z.string().min(1).default('latch').meta({ description: 'The exported spans\' `service.name`.' }),
    otlp: Otlp.optional().meta({ description: 'Export one span per proxied request (route, pool, endpoint, attempts, affinity, status) over OTLP/HTTP, batched in the background. Omitted: nothing is exported and the OpenTelemetry SDK is never loaded.' }),
  })
  .superRefine((tracing, ctx) => {
    if (tracing.enabled === false && tracing.otlp !== undefined) ctx.addIssue({ code: 'custom', path: ['enabled'], message: 'exporting spans (tracing.otlp) needs tracing — remove enabled: false, or remove otlp' })
  })

export type TracingConfig = z.output<typeof Tracing>
export type OtlpConfig = NonNullable<TracingConfig['otlp']>

/** Whether requests take part in Trace Context under this config. */
export function tracingEnabled(tracing: TracingConfig): boolean {
  return tracing.enabled ?? tracing.otlp !== undefined
}
