/**
 * Malformed and ambiguous requests over a raw socket (request smuggling and parser-confusion vectors):
 * each gets a 4xx, the connection is closed afterwards, and no upstream receives anything: neither a
 * complete request (`arrivals`) nor even a request head (`heads`).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { parseRawResponse, rawRequest } from '../helpers/raw-http.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const H = 'Host: app.test\r\n'
let latch: LatchProcess
let upstreams: TestUpstream[]

beforeAll(async () => {
  upstreams = await Promise.all([startUpstream('a'), startUpstream('b')])
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      server: { maxHeaderSize: '4KiB', maxHeadersCount: 20 },
      pools: [{ name: 'web', endpoints: upstreams.map((upstream) => upstream.url) }],
    },
  })
})

afterAll(async () => {
  await latch.stop()
  await Promise.all(upstreams.map((upstream) => upstream.stop()))
})

afterEach(() => {
  for (const upstream of upstreams) upstream.arrivals.length = upstream.heads.length = 0
})

const manyHeaders = Array.from({ length: 25 }, (_, i) => `X-H${i}: ${i}\r\n`).join('')

// [name, raw request bytes, expected status]
const MALFORMED: readonly [string, string, number][] = [
  ['Content-Length and Transfer-Encoding together', `POST /x HTTP/1.1\r\n${H}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['two equal Content-Length headers', `POST /x HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello`, 400],
  ['two different Content-Length headers', `POST /x HTTP/1.1\r\n${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!`, 400],
  ['Content-Length list', `POST /x HTTP/1.1\r\n${H}Content-Length: 5, 5\r\n\r\nhello`, 400],
  ['negative Content-Length', `POST /x HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n`, 400],
  ['non-numeric Content-Length', `POST /x HTTP/1.1\r\n${H}Content-Length: 1e3\r\n\r\n`, 400],
  ['duplicate Host', `GET /x HTTP/1.1\r\n${H}Host: evil.test\r\n\r\n`, 400],
  ['bad chunk size', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk size overflow', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nhello\r\n0\r\n\r\n`, 400],
  ['bad chunk extension (control character)', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;\x01\r\nhello\r\n0\r\n\r\n`, 400],
  ['bad chunk extension (bare LF)', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n5;a\nb\r\nhello\r\n0\r\n\r\n`, 400],
  ['chunk data longer than its size', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n`, 400],
  ['obs-fold (header line continuation)', `GET /x HTTP/1.1\r\n${H}X-A: b\r\n c\r\n\r\n`, 400],
  ['bare CR in a header value', `GET /x HTTP/1.1\r\n${H}X-A: b\rc\r\n\r\n`, 400],
  ['NUL in a header value', `GET /x HTTP/1.1\r\n${H}X-A: b\x00c\r\n\r\n`, 400],
  ['LF-only line ends', 'GET /x HTTP/1.1\nHost: app.test\nX-A: b\n\n', 400],
  ['LF-only end of headers', `GET /x HTTP/1.1\r\n${H}\n`, 400],
  ['Transfer-Encoding: gzip, chunked', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n`, 400],
  ['Transfer-Encoding: chunked twice', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400],
  ['Transfer-Encoding not ending in chunked', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: gzip\r\n\r\nhello`, 400],
  ['Transfer-Encoding on HTTP/1.0', `POST /x HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, 400],
  ['space before the colon', `GET /x HTTP/1.1\r\n${H}X-A : b\r\n\r\n`, 400],
  ['space before the colon of Transfer-Encoding', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\nhello`, 400],
  ['absolute-form target with another authority than Host', `GET http://evil.test/x HTTP/1.1\r\n${H}\r\n`, 400],
  ['missing Host on HTTP/1.1', 'GET /x HTTP/1.1\r\nX-A: b\r\n\r\n', 400],
  ['empty Host on HTTP/1.1', 'GET /x HTTP/1.1\r\nHost:\r\n\r\n', 400],
  ['Host with a path', 'GET /x HTTP/1.1\r\nHost: app.test/evil\r\n\r\n', 400],
  ['Host with a space', 'GET /x HTTP/1.1\r\nHost: app test\r\n\r\n', 400],
  ['Host with userinfo', 'GET /x HTTP/1.1\r\nHost: user@app.test\r\n\r\n', 400],
  ['Host with two ports', 'GET /x HTTP/1.1\r\nHost: app.test:80:81\r\n\r\n', 400],
  ['Host with a non-numeric port', 'GET /x HTTP/1.1\r\nHost: app.test:http\r\n\r\n', 400],
  ['Host with an unclosed IPv6 literal', 'GET /x HTTP/1.1\r\nHost: [::1\r\n\r\n', 400],
  ['space in the request target', `GET /a b HTTP/1.1\r\n${H}\r\n`, 400],
  ['invalid method token', `G(T /x HTTP/1.1\r\n${H}\r\n`, 400],
  ['unknown HTTP version', `GET /x HTTP/1.7\r\n${H}\r\n`, 400],
  ['asterisk-form target outside OPTIONS', `GET * HTTP/1.1\r\n${H}\r\n`, 400],
  ['ambiguous path', `GET /a/..;/b HTTP/1.1\r\n${H}\r\n`, 400],
  ['too many headers', `GET /x HTTP/1.1\r\n${H}${manyHeaders}\r\n`, 431],
  ['oversized header', `GET /x HTTP/1.1\r\n${H}X-Big: ${'b'.repeat(5000)}\r\n\r\n`, 431],
]

describe('malformed requests over a raw socket', () => {
  // Controls: close relatives of the malformed requests that are valid and must get through.
  it.each([
    ['a plain request', `GET /x HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, '/x'],
    ['absolute-form whose authority equals Host (sent on in origin form)', `GET http://app.test/x?q=1 HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, '/x?q=1'],
    ['absolute-form with Host differing only in case', `GET http://APP.test/x HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, '/x'],
    ['HTTP/1.0 without Host', 'GET /x HTTP/1.0\r\n\r\n', '/x'],
    ['Host as an IPv6 literal with port', 'GET /x HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n', '/x'],
    ['Host with upper case, trailing dot and port', 'GET /x HTTP/1.1\r\nHost: APP.test.:8080\r\nConnection: close\r\n\r\n', '/x'],
    ['a valid chunked body with an extension', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n`, '/x'],
    ['Transfer-Encoding: Chunked (case-insensitive)', `POST /x HTTP/1.1\r\n${H}Transfer-Encoding: Chunked\r\nConnection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n`, '/x'],
  ])('control: %s → 200 and reaches an upstream', async (_name, bytes, url) => {
    const result = await rawRequest(latch.port, bytes)
    expect(result.status).toBe(200)
    expect(upstreams.flatMap((upstream) => upstream.arrivals).map((arrival) => arrival.url)).toEqual([url])
  })

  it.each(MALFORMED)('%s → %s, connection closed, upstreams receive nothing', async (_name, bytes, status) => {
    const result = await rawRequest(latch.port, bytes, 1500)
    expect(result.status).toBe(status)
    expect(result.closed).toBe(true)
    const response = parseRawResponse(result.text)
    expect(response.headers['x-latch-error']).toMatch(/^ERR_(BAD_REQUEST|BAD_PATH|HEADERS_TOO_LARGE)$/)
    // Nothing at all, not even a request head, reached an upstream: wait a little so a late one shows.
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(upstreams.flatMap((upstream) => upstream.heads)).toEqual([])
    expect(upstreams.flatMap((upstream) => upstream.arrivals)).toEqual([])
  })
})
