/**
 * @module A real OTLP/HTTP traces receiver on 127.0.0.1: accepts `POST /v1/traces` in the OTLP JSON
 * encoding (what @opentelemetry/exporter-trace-otlp-http sends) and keeps every span, flattened.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One received span, with its attributes as a plain object and its resource's `service.name`. */
export interface ReceivedSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly name: string
  readonly kind: number
  readonly attributes: Record<string, string | number | boolean>
  readonly status: { code?: number; message?: string }
  readonly serviceName: string | undefined
  readonly startTimeUnixNano: string
  readonly endTimeUnixNano: string
}

interface OtlpValue {
  stringValue?: string
  intValue?: string | number
  doubleValue?: number
  boolValue?: boolean
}
interface OtlpKeyValue {
  key: string
  value: OtlpValue
}
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind: number
  attributes?: OtlpKeyValue[]
  status?: { code?: number; message?: string }
  startTimeUnixNano: string
  endTimeUnixNano: string
}
interface OtlpRequest {
  resourceSpans?: { resource?: { attributes?: OtlpKeyValue[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[]
}

export interface OtlpReceiver {
  /** The traces URL, e.g. `http://127.0.0.1:40000/v1/traces`. */
  readonly url: string
  readonly spans: ReceivedSpan[]
  /** Content types of the export requests received. */
  readonly contentTypes: string[]
  stop(): Promise<void>
}

function plain(value: OtlpValue): string | number | boolean {
  if (value.stringValue !== undefined) return value.stringValue
  // OTLP JSON may write 64-bit integers as strings.
  if (value.intValue !== undefined) return Number(value.intValue)
  if (value.doubleValue !== undefined) return value.doubleValue
  return value.boolValue ?? ''
}

function attributes(list: OtlpKeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((entry) => [entry.key, plain(entry.value)]))
}

/** Starts a receiver; it answers 200 with an empty ExportTraceServiceResponse. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = []
  const contentTypes: string[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end()
        return
      }
      contentTypes.push(req.headers['content-type'] ?? '')
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpRequest
      for (const resourceSpans of body.resourceSpans ?? []) {
        const serviceName = attributes(resourceSpans.resource?.attributes)['service.name']
        for (const scope of resourceSpans.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            spans.push({
              traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId === '' ? undefined : span.parentSpanId, name: span.name, kind: span.kind,
              attributes: attributes(span.attributes), status: span.status ?? {}, serviceName: typeof serviceName === 'string' ? serviceName : undefined,
              startTimeUnixNano: span.startTimeUnixNano, endTimeUnixNano: span.endTimeUnixNano,
            })
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    contentTypes,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
