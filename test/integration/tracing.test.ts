/**
 * Traces through the real CLI: W3C `traceparent` continuity from client to upstream (Latch's own span
 * in between), traces started and invalid ones restarted, the trace id in the access log, and one span
 * per request exported over OTLP/HTTP to a real receiver with route, pool, endpoint, attempts,
 * affinity and status. With tracing off (the default) trace headers pass through untouched.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../helpers/http-client.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../helpers/otlp-receiver.js'
import { sendAndLeave, upgradeHead } from '../helpers/upgrade-client.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[0-3])$/

const hex = (bytes: number): string => randomBytes(bytes).toString('hex')

/** The traceparent the upstream received for the request with this path. */
function upstreamTraceparent(upstream: TestUpstream, path: string): string | undefined {
  const arrival = upstream.arrivals.find((seen) => seen.url === path)
  const value = arrival?.headers.traceparent
  return Array.isArray(value) ? value.join('|') : value
}

const routes = {
  rules: [
    {
      http: {
        paths: [
          { path: '/down', pathType: 'Prefix', backend: { service: { name: 'down' } } },
          { path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } },
        ],
      },
    },
  ],
}

describe('tracing with OTLP export', () => {
  let receiver: OtlpReceiver
  let upstream: TestUpstream
  let latch: LatchProcess

  beforeAll(async () => {
    receiver = await startOtlpReceiver()
    upstream = await startUpstream('u1')
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        tracing: { serviceName: 'edge', otlp: { endpoint: receiver.url } },
        pools: [
          { name: 'web', endpoints: [upstream.url], affinity: { mode: 'cookie' } },
          // Two closed ports: a GET is tried on both, then fails (attempts 2, 502).
          { name: 'down', endpoints: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], retry: { attempts: 1 } },
        ],
        routes,
      },
    })
  })

  afterAll(async () => {
    await latch?.stop()
    await upstream?.stop()
    await receiver?.stop()
  })

  const spanOf = (spanId: string): Promise<ReceivedSpan> => waitFor(() => receiver.spans.find((span) => span.spanId === spanId), 10_000, 50, `span ${spanId}`)

  it('continues the client trace: the upstream sees the same trace id with Latch\'s span as parent, and that span is exported', async () => {
    const traceId = hex(16)
    const clientSpan = hex(8)
    const response = await send({ port: latch.port, path: '/continuity', headers: { traceparent: `00-${traceId}-${clientSpan}-01`, tracestate: 'vendor=abc' } })
    expect(response.status).toBe(200)
    const [, seenTrace, latchSpan, flags] = TRACEPARENT.exec(upstreamTraceparent(upstream, '/continuity') ?? '') ?? []
    expect(seenTrace).toBe(traceId)
    expect(flags).toBe('01')
    expect(latchSpan).not.toBe(clientSpan)
    expect(upstream.arrivals.find((seen) => seen.url === '/continuity')?.headers.tracestate).toBe('vendor=abc')

    const span = await spanOf(latchSpan as string)
    expect(span).toMatchObject({ traceId, parentSpanId: clientSpan, kind: 2, serviceName: 'edge' })
    expect(span.name).toBe(`GET ${span.attributes['latch.route'] as string}`)
    expect(span.attributes).toMatchObject({
      'http.request.method': 'GET', 'url.path': '/continuity', 'http.response.status_code': 200,
      'latch.pool': 'web', 'latch.endpoint': `127.0.0.1:${upstream.port}`, 'latch.attempts': 1, 'latch.affinity': 'new',
    })
    expect(span.attributes['latch.route']).toMatch(/^\* \/ Prefix$/)
    expect(BigInt(span.endTimeUnixNano)).toBeGreaterThanOrEqual(BigInt(span.startTimeUnixNano))

    const line = await waitFor(() => accessLines(latch).find((entry) => entry.path === '/continuity'), 5000, 20, 'access line')
    expect(line).toMatchObject({ traceId, spanId: latchSpan })
  })

  it('exports exactly one span per request', async () => {
    const traceIds = Array.from({ length: 20 }, () => hex(16))
    for (const traceId of traceIds) expect((await send({ port: latch.port, path: '/many', headers: { traceparent: `00-${traceId}-${hex(8)}-01` } })).status).toBe(200)
    const last = traceIds.at(-1) as string
    // The processor exports in order: once the last span is in, every earlier one is too.
    await waitFor(() => receiver.spans.some((span) => span.traceId === last), 10_000, 50, 'last span')
    for (const traceId of traceIds) expect(receiver.spans.filter((span) => span.traceId === traceId)).toHaveLength(1)
  })

  it('starts a trace for a request without traceparent, and restarts one whose traceparent is invalid', async () => {
    await send({ port: latch.port, path: '/started' })
    await send({ port: latch.port, path: '/invalid', headers: { traceparent: '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01', tracestate: 'vendor=abc' } })
    for (const path of ['/started', '/invalid']) {
      const [, traceId, latchSpan, flags] = TRACEPARENT.exec(upstreamTraceparent(upstream, path) ?? '') ?? []
      expect(traceId, path).toBeDefined()
      expect(flags).toBe('03')
      const span = await spanOf(latchSpan as string)
      expect(span.traceId).toBe(traceId)
      expect(span.parentSpanId).toBeUndefined()
    }
    expect(upstreamTraceparent(upstream, '/invalid')).not.toContain('B7AD6B7169203331'.toLowerCase())
    expect(upstream.arrivals.find((seen) => seen.url === '/invalid')?.headers.tracestate).toBeUndefined()
  })

  it('records retries and failures: attempts, status and an error status', async () => {
    const traceId = hex(16)
    expect((await send({ port: latch.port, path: '/down/x', headers: { traceparent: `00-${traceId}-${hex(8)}-01` } })).status).toBe(502)
    const span = await waitFor(() => receiver.spans.find((candidate) => candidate.traceId === traceId), 10_000, 50, 'failed span')
    expect(span.attributes).toMatchObject({ 'latch.pool': 'down', 'latch.attempts': 2, 'http.response.status_code': 502, 'latch.error_code': 'ERR_UPSTREAM_CONNECT' })
    expect(span.status.code).toBe(2)
  })

  it('exports nothing for a trace the client did not sample, and forwards its flag', async () => {
    const unsampled = hex(16)
    await send({ port: latch.port, path: '/unsampled', headers: { traceparent: `00-${unsampled}-${hex(8)}-00` } })
    expect(upstreamTraceparent(upstream, '/unsampled')).toMatch(new RegExp(`^00-${unsampled}-[0-9a-f]{16}-00$`))
    const sampled = hex(16)
    await send({ port: latch.port, path: '/sampled-after', headers: { traceparent: `00-${sampled}-${hex(8)}-01` } })
    await waitFor(() => receiver.spans.some((span) => span.traceId === sampled), 10_000, 50, 'later span')
    expect(receiver.spans.some((span) => span.traceId === unsampled)).toBe(false)
  })

  it('gives an upgrade request a trace too: its access line carries the client\'s trace id', async () => {
    const traceId = hex(16)
    const head = upgradeHead('/upgrade', 'websocket').replace(/\r\n\r\n$/, `\r\ntraceparent: 00-${traceId}-${hex(8)}-01\r\n\r\n`)
    await sendAndLeave(latch.port, head, 'close')
    const line = await waitFor(() => accessLines(latch).find((entry) => entry.path === '/upgrade'), 5000, 20, 'upgrade access line')
    expect(line.traceId).toBe(traceId)
    expect(line.spanId).toMatch(/^[0-9a-f]{16}$/)
  })

  it('sends OTLP JSON to the configured URL', () => {
    expect(receiver.contentTypes.length).toBeGreaterThan(0)
    expect(receiver.contentTypes.every((type) => type.startsWith('application/json'))).toBe(true)
  })

  // Last in this block: it stops the receiver.
  it('keeps proxying when the collector is gone, and says so in the log', async () => {
    await receiver.stop()
    expect((await send({ port: latch.port, path: '/collector-gone', headers: { traceparent: `00-${hex(16)}-${hex(8)}-01` } })).status).toBe(200)
    const warning = await waitFor(() => latch.logs.find((line) => line.msg === 'span export failed; spans are dropped until the collector answers'), 20_000, 50, 'export failure warning')
    expect(warning).toMatchObject({ level: 'warn', endpoint: receiver.url })
  })
})

describe('tracing off (the default)', () => {
  let upstream: TestUpstream
  let latch: LatchProcess

  beforeAll(async () => {
    upstream = await startUpstream('u2')
    latch = await startLatch({ config: { listen: '127.0.0.1:0', pools: [{ name: 'web', endpoints: [upstream.url] }] } })
  })

  afterAll(async () => {
    await latch?.stop()
    await upstream?.stop()
  })

  it('passes traceparent and tracestate through untouched, even invalid ones, and logs no trace id', async () => {
    const valid = `00-${hex(16)}-${hex(8)}-01`
    await send({ port: latch.port, path: '/valid', headers: { traceparent: valid, tracestate: 'a=1' } })
    await send({ port: latch.port, path: '/garbage', headers: { traceparent: 'garbage' } })
    expect(upstreamTraceparent(upstream, '/valid')).toBe(valid)
    expect(upstream.arrivals.find((seen) => seen.url === '/valid')?.headers.tracestate).toBe('a=1')
    expect(upstreamTraceparent(upstream, '/garbage')).toBe('garbage')
    const line = await waitFor(() => accessLines(latch).find((entry) => entry.path === '/valid'), 5000, 20, 'access line')
    expect(line.traceId).toBeUndefined()
  })
})
