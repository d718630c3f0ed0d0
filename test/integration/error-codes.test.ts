/**
 * Every client-visible error code, provoked for real: its HTTP status, the JSON body
 * {error, status, message, requestId}, the x-latch-error header, and the request id header matching
 * the body. Also the access line for each (status and code).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, type SimpleResponse } from '../helpers/http-client.js'
import { endpointAction } from '../helpers/admin-client.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { parseRawResponse, rawRequest } from '../helpers/raw-http.js'
import { refusedUrl, startRawUpstream, type RawUpstream } from '../helpers/raw-upstream.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const HOST = 'errors.test'
let latch: LatchProcess
let ok: TestUpstream
let reset: TestUpstream
let hang: TestUpstream
let broken: RawUpstream

/** Invalid responses by request path: each must become ERR_UPSTREAM_RESPONSE, never reach the client. */
const INVALID_RESPONSES: Readonly<Record<string, string>> = {
  '/broken/garbage': 'this is not HTTP at all\r\n\r\n',
  '/broken/header-name': 'HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 2\r\n\r\nok',
  '/broken/header-value': 'HTTP/1.1 200 OK\r\nX-Bad: a\x7fb\r\nContent-Length: 2\r\n\r\nok',
  '/broken/obs-fold': 'HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 2\r\n\r\nok',
  '/broken/cl-and-te': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n',
  '/broken/two-cl': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!',
  '/broken/lf-only': 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
}

const route = (path: string, pool: string, extra: object = {}) => ({ path, pathType: 'Prefix', backend: { service: { name: pool } }, ...extra })

beforeAll(async () => {
  ;[ok, reset, hang] = await Promise.all([startUpstream('ok'), startUpstream('reset', { mode: { kind: 'reset' } }), startUpstream('hang', { mode: { kind: 'hang' } })])
  broken = await startRawUpstream((socket, head) => socket.end(INVALID_RESPONSES[head.split(' ')[1] ?? ''] ?? 'HTTP/1.1 500 Unscripted\r\n\r\n'))
  const [refusedA, refusedB] = await Promise.all([refusedUrl(), refusedUrl()])
  const fast = { connect: '500ms', responseHeaders: '300ms', bodyIdle: '300ms' }
  // Passive health would eject the failing endpoints after a few requests and change the answers.
  const passiveHealth = { enabled: false }
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      server: { maxHeaderSize: '4KiB', maxHeadersCount: 20, maxBodySize: '1MiB' },
      pools: [
        { name: 'ok', endpoints: [ok.url] },
        { name: 'connect', endpoints: [refusedA], retry: { attempts: 0 }, timeouts: fast, passiveHealth },
        // One endpoint, a retry allowed: no other endpoint to retry on, so the cause (502) is answered.
        { name: 'lastfailure', endpoints: [refusedB], retry: { attempts: 1 }, timeouts: fast, passiveHealth },
        // Its only endpoint is put in maintenance below: nothing can serve.
        { name: 'noendpoint', endpoints: [ok.url], passiveHealth },
        { name: 'reset', endpoints: [reset.url], retry: { attempts: 0 }, timeouts: fast, passiveHealth },
        { name: 'broken', endpoints: [broken.url], retry: { attempts: 0 }, timeouts: fast, passiveHealth },
        { name: 'slow', endpoints: [hang.url], retry: { attempts: 0 }, timeouts: fast, passiveHealth },
      ],
      routes: {
        rules: [
          {
            host: HOST,
            http: {
              paths: [
                route('/ok', 'ok'),
                route('/small', 'ok', { maxBodySize: '1KiB' }),
                route('/connect', 'connect'),
                route('/noendpoint', 'noendpoint'),
                route('/lastfailure', 'lastfailure'),
                route('/reset', 'reset'),
                route('/broken', 'broken'),
                route('/timeout', 'slow'),
              ],
            },
          },
        ],
      },
    },
  })
})

beforeAll(async () => {
  await endpointAction(latch, 'noendpoint', new URL(ok.url).host, 'maintenance')
})

afterAll(async () => {
  await latch.stop()
  await Promise.all([ok.stop(), reset.stop(), hang.stop(), broken.stop()])
})

/** Asserts Latch's error response shape; returns the request id. */
function expectLatchError(response: { status: number; headers: Record<string, unknown>; json: unknown }, code: string, status: number): string {
  expect({ status: response.status, code: response.headers['x-latch-error'] }).toEqual({ status, code })
  const requestId = response.headers['x-request-id']
  expect(requestId).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/)
  expect(response.json).toEqual({ error: code, status, message: expect.stringMatching(/\S/), requestId })
  return requestId as string
}

async function expectLogged(requestId: string, status: number, code: string): Promise<void> {
  const line = await waitFor(() => accessLines(latch).find((entry) => entry.reqId === requestId), 5000, 20, `access line ${requestId}`)
  expect(line).toMatchObject({ status, code })
}

const get = (path: string, extra: Partial<Parameters<typeof send>[0]> = {}): Promise<SimpleResponse> =>
  send({ port: latch.port, path, headers: { host: HOST }, ...extra })

describe('error codes', () => {
  it('a normal request is not an error', async () => {
    const response = await get('/ok')
    expect(response.status).toBe(200)
    expect(response.headers['x-latch-error']).toBeUndefined()
  })

  it.each([
    ['ERR_NO_ROUTE', 404, () => send({ port: latch.port, path: '/ok', headers: { host: 'other.test' } })],
    ['ERR_UPSTREAM_CONNECT', 502, () => get('/connect')],
    ['ERR_NO_ENDPOINT', 503, () => get('/noendpoint')],
    ['ERR_UPSTREAM_CONNECT', 502, () => get('/lastfailure')],
    ['ERR_UPSTREAM_RESET', 502, () => get('/reset')],
    ['ERR_UPSTREAM_TIMEOUT', 504, () => get('/timeout')],
    ['ERR_BAD_PATH', 400, () => get('/ok/a%2Fb')],
    ['ERR_BAD_REQUEST', 400, () => send({ port: latch.port, path: '/ok', headers: ['Host', HOST, 'Host', 'evil.test'] })],
    ['ERR_BODY_TOO_LARGE', 413, () => get('/small', { method: 'POST', body: 'x'.repeat(2000) })],
    ['ERR_BODY_TOO_LARGE', 413, () => get('/small', { method: 'POST', headers: { host: HOST, 'transfer-encoding': 'chunked' }, body: 'x'.repeat(2000) })],
    ['ERR_BODY_TOO_LARGE', 413, () => get('/ok', { method: 'PUT', headers: { host: HOST, 'content-length': String(2 * 1024 * 1024) } })],
  ])('%s → %i (case %#)', async (code, status, act) => {
    const requestId = expectLatchError(await act(), code, status)
    await expectLogged(requestId, status, code)
  })

  it.each(Object.keys(INVALID_RESPONSES))('ERR_UPSTREAM_RESPONSE → 502 for an invalid response (%s)', async (path) => {
    const requestId = expectLatchError(await get(path), 'ERR_UPSTREAM_RESPONSE', 502)
    await expectLogged(requestId, 502, 'ERR_UPSTREAM_RESPONSE')
  })

  it('ERR_NO_ENDPOINT carries Retry-After', async () => {
    const response = await get('/noendpoint')
    expect(response.headers['retry-after']).toBe('1')
  })

  it('ERR_HEADERS_TOO_LARGE 431 by size', async () => {
    const response = await get('/ok', { headers: { host: HOST, 'x-big': 'b'.repeat(5000) } })
    expectLatchError(response, 'ERR_HEADERS_TOO_LARGE', 431)
  })

  it('ERR_HEADERS_TOO_LARGE 431 by count', async () => {
    const headers: Record<string, string> = { host: HOST }
    for (let i = 0; i < 25; i++) headers[`x-h${i}`] = String(i)
    const requestId = expectLatchError(await get('/ok', { headers }), 'ERR_HEADERS_TOO_LARGE', 431)
    await expectLogged(requestId, 431, 'ERR_HEADERS_TOO_LARGE')
  })

  it.each([
    [20, 200],
    [21, 431],
  ])('maxHeadersCount 20: a request with exactly %i headers → %i', async (count, status) => {
    const extra = Array.from({ length: count - 2 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')
    const raw = await rawRequest(latch.port, `GET /ok HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n${extra}\r\n`)
    expect(raw.status).toBe(status)
  })

  it.each([
    [1024, 'content-length', 200],
    [1025, 'content-length', 413],
    [1024, 'chunked', 200],
    [1025, 'chunked', 413],
  ])('maxBodySize 1KiB: a %i-byte body (%s) → %i', async (bytes, framing, status) => {
    const headers = framing === 'chunked' ? { host: HOST, 'transfer-encoding': 'chunked' } : { host: HOST }
    const response = await get('/small', { method: 'POST', headers, body: 'y'.repeat(bytes) })
    expect(response.status).toBe(status)
    if (status === 200) expect(ok.arrivals.at(-1)?.bodyBytes).toBe(bytes)
  })

  it('ERR_METHOD_NOT_ALLOWED 405 for CONNECT', async () => {
    const raw = await rawRequest(latch.port, `CONNECT ${HOST}:443 HTTP/1.1\r\nHost: ${HOST}:443\r\n\r\n`)
    const response = parseRawResponse(raw.text)
    expectLatchError({ ...response, json: JSON.parse(response.body) }, 'ERR_METHOD_NOT_ALLOWED', 405)
    expect(raw.closed).toBe(true)
  })

  it('no error reached an endpoint it should not have', () => {
    expect(ok.arrivals.filter((arrival) => arrival.url !== '/ok' && !(arrival.url === '/small' && arrival.bodyBytes <= 1024))).toEqual([])
  })
})
