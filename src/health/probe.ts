/**
 * @module One active health probe: an HTTP request to an endpoint's health path, judged by status and body.
 *
 * Probes go through the checker's own undici Agent with `Connection: close`, so they never share a
 * connection (or a request slot) with proxied traffic, and a stale keep-alive socket can never turn
 * into a false failure: every probe also proves that a new connection can be opened.
 */
import type { Dispatcher } from 'undici'
import type { ActiveHealthCheckConfig } from '../config/schema.js'
import type { Endpoint, ProbeResult } from '../upstream/endpoint.js'

/** Most body bytes read when looking for `bodyMatch`. */
export const BODY_MATCH_LIMIT = 64 * 1024

/** A probe compiled once from the config. */
export interface ProbeSpec {
  readonly method: ActiveHealthCheckConfig['method']
  readonly path: string
  readonly port: number | undefined
  readonly host: string | undefined
  readonly timeoutMs: number
  readonly statusOk: (status: number) => boolean
  readonly bodyMatch: string | undefined
  /** `type: grpc`: the service asked about (grpc-probe.ts); undefined for HTTP probes. */
  readonly grpcService: string | undefined
}

/** Where and how one endpoint is probed (computed once per watched endpoint). */
export interface ProbeTarget {
  readonly origin: string
  readonly headers: Readonly<Record<string, string>>
}

/** Compiles `["200-399", "404"]` into a test; ranges are inclusive. */
export function compileStatuses(specs: readonly string[]): (status: number) => boolean {
  const ranges = specs.map((spec) => {
    const [low, high = low] = spec.split('-').map(Number) as [number, number?]
    return [low, high] as const
  })
  return (status) => ranges.some(([low, high]) => status >= low && status <= high)
}

/** Compiles the `healthCheck` config into a ProbeSpec. */
export function compileProbe(config: ActiveHealthCheckConfig): ProbeSpec {
  return {
    method: config.method,
    path: config.path ?? '/',
    port: config.port,
    host: config.host,
    timeoutMs: config.timeout,
    statusOk: compileStatuses(config.expectedStatuses),
    bodyMatch: config.bodyMatch,
    grpcService: config.type === 'grpc' ? config.grpcService : undefined,
  }
}

/** The origin and headers probes of `endpoint` use (`port` overrides the endpoint's own). */
export function probeTarget(spec: ProbeSpec, endpoint: Endpoint): ProbeTarget {
  const url = new URL(endpoint.url)
  if (spec.port !== undefined) url.port = String(spec.port)
  return {
    origin: url.origin,
    headers: { host: spec.host ?? endpoint.authority, connection: 'close', 'user-agent': 'latch-health-check' },
  }
}

/**
 * Runs one probe. Never rejects: every failure (refused, reset, timeout, wrong status or body)
 * becomes a failed ProbeResult. `controller` lets the checker cancel the probe (unwatch, stop).
 */
export async function runProbe(agent: Dispatcher, spec: ProbeSpec, target: ProbeTarget, controller: AbortController): Promise<ProbeResult> {
  const at = Date.now()
  const started = performance.now()
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    controller.abort()
  }, spec.timeoutMs)
  timer.unref()
  const finish = (status: number | undefined, error: string | undefined): ProbeResult => ({
    ok: error === undefined,
    at,
    ...(status === undefined ? {} : { status }),
    ...(error === undefined ? {} : { error }),
    durationMs: Math.round(performance.now() - started),
  })
  try {
    const response = await agent.request({ origin: target.origin, path: spec.path, method: spec.method, headers: target.headers, signal: controller.signal })
    const status = response.statusCode
    if (!spec.statusOk(status)) {
      await response.body.dump({ limit: BODY_MATCH_LIMIT })
      return finish(status, `status ${status}`)
    }
    if (spec.bodyMatch === undefined) {
      await response.body.dump({ limit: BODY_MATCH_LIMIT })
      return finish(status, undefined)
    }
    const text = await readPrefix(response.body, BODY_MATCH_LIMIT)
    return finish(status, text.includes(spec.bodyMatch) ? undefined : `body does not contain ${JSON.stringify(spec.bodyMatch)}`)
  } catch (error) {
    return finish(undefined, timedOut ? `no complete answer within ${spec.timeoutMs} ms` : describeError(error))
  } finally {
    clearTimeout(timer)
  }
}

/** Reads at most `limit` bytes of `body` as UTF-8 and drops the rest (the connection closes anyway). */
async function readPrefix(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of body) {
    chunks.push(chunk)
    length += chunk.length
    if (length >= limit) break
  }
  body.destroy()
  return Buffer.concat(chunks, length).subarray(0, limit).toString('utf8')
}

function describeError(error: unknown): string {
  const code = (error as { code?: unknown }).code
  const message = (error as Error).message ?? String(error)
  return typeof code === 'string' ? `${code} ${message}` : message
}
