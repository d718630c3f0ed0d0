/**
 * @module One gRPC health probe: `grpc.health.v1.Health/Check` on a new HTTP/2 connection, healthy
 * only when the call ends with grpc-status 0 and the answer is `SERVING`.
 *
 * Like HTTP probes (probe.ts), each probe opens its own connection and closes it, so it never shares
 * one with proxied calls and proves that a new connection can be opened.
 */
import { connect, type IncomingHttpHeaders, type SecureClientSessionOptions } from 'node:http2'
import { healthCheckRequestFrame, servingStatusOf } from '../grpc/health-messages.js'
import type { ProbeResult } from '../upstream/endpoint.js'
import type { ProbeSpec, ProbeTarget } from './probe.js'

/** Most response bytes read (a HealthCheckResponse is a few bytes). */
const RESPONSE_LIMIT = 64 * 1024

/** Runs one gRPC probe; never rejects. `tls` is set for `https://` endpoints. */
export function runGrpcProbe(spec: ProbeSpec, target: ProbeTarget, tls: SecureClientSessionOptions | undefined, controller: AbortController): Promise<ProbeResult> {
  const at = Date.now()
  const started = performance.now()
  return new Promise((resolve) => {
    let settled = false
    const session = tls === undefined ? connect(target.origin) : connect(target.origin, { ...tls, ALPNProtocols: ['h2'] })
    const finish = (status: number | undefined, error: string | undefined): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      controller.signal.removeEventListener('abort', aborted)
      session.destroy()
      resolve({ ok: error === undefined, at, ...(status === undefined ? {} : { status }), ...(error === undefined ? {} : { error }), durationMs: Math.round(performance.now() - started) })
    }
    const aborted = (): void => finish(undefined, 'probe cancelled')
    const timer = setTimeout(() => finish(undefined, `no complete answer within ${spec.timeoutMs} ms`), spec.timeoutMs)
    timer.unref()
    controller.signal.addEventListener('abort', aborted)
    session.on('error', (error: NodeJS.ErrnoException) => finish(undefined, `${error.code ?? 'error'} ${error.message}`))
    const stream = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      ':authority': target.headers.host,
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': 'latch-health-check',
    })
    const chunks: Buffer[] = []
    let length = 0
    let httpStatus: number | undefined
    let grpcStatus: string | undefined
    let grpcMessage: string | undefined
    const readStatus = (headers: IncomingHttpHeaders): void => {
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status'])
      if (headers['grpc-message'] !== undefined) grpcMessage = decodeURIComponent(String(headers['grpc-message']))
    }
    stream.on('response', (headers) => {
      httpStatus = Number(headers[':status'])
      readStatus(headers)
    })
    stream.on('trailers', readStatus)
    stream.on('data', (chunk: Buffer) => {
      if (length < RESPONSE_LIMIT) chunks.push(chunk)
      length += chunk.length
    })
    stream.on('error', (error: NodeJS.ErrnoException) => finish(httpStatus, `${error.code ?? 'error'} ${error.message}`))
    stream.on('close', () => {
      if (httpStatus === undefined) return finish(undefined, 'stream closed without a response')
      if (httpStatus !== 200) return finish(httpStatus, `status ${httpStatus}`)
      if (grpcStatus !== '0') return finish(httpStatus, grpcStatus === undefined ? 'no grpc-status' : `grpc-status ${grpcStatus}${grpcMessage === undefined ? '' : ` (${grpcMessage})`}`)
      const answer = servingStatusOf(Buffer.concat(chunks))
      if ('problem' in answer) return finish(httpStatus, answer.problem)
      finish(httpStatus, answer.status === 'SERVING' ? undefined : answer.status)
    })
    stream.end(healthCheckRequestFrame(spec.grpcService ?? ''))
  })
}
