/**
 * @module Fixtures of the golden header tests: the request a client sends, what of it must pass
 * unchanged, and upstream responses exercising the response-side rules (trailers, bodiless statuses,
 * early hints, hop-by-hop headers).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Everything a client might send that must not (or not as sent) reach the upstream, plus two that must. */
export const CLIENT_HEADERS = [
  'Host', 'App.Example.com:8080',
  'Connection', 'keep-alive, X-Drop-Me',
  'X-Drop-Me', 'secret',
  'Keep-Alive', 'timeout=5',
  'TE', 'trailers',
  'Proxy-Connection', 'keep-alive',
  'Proxy-Authorization', 'Basic eA==',
  'Upgrade', 'h2c',
  'X-Forwarded-For', '203.0.113.7',
  'X-Forwarded-Proto', 'https',
  'X-Forwarded-Host', 'public.example',
  'X-Forwarded-Port', '443',
  'Forwarded', 'for=203.0.113.7;proto=https',
  'Via', '1.1 edge',
  'X-Request-Id', 'abc-123',
  'X-Custom', 'kept',
  'Cookie', 'a=1',
  'Cookie', 'b=2',
]

/**
 * What of CLIENT_HEADERS reaches the upstream unchanged, in order (undici adds its own Connection;
 * the two Cookie lines are joined into one, RFC 6265 §5.4).
 */
export const PASSED_ON = [
  'host', 'App.Example.com:8080',
  'connection', 'keep-alive',
  'X-Custom', 'kept',
  'Cookie', 'a=1; b=2',
  'x-request-id', 'abc-123',
]

/** Upstream behaviours for the response-side tests, by path (routed under /r). */
export function respond(req: IncomingMessage, res: ServerResponse): void {
  switch (req.url) {
    case '/r/trailers':
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'X-Checksum' })
      res.write('abc')
      res.addTrailers({ 'X-Checksum': 'sha-xyz' })
      res.end()
      return
    case '/r/head':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1234' })
      res.end()
      return
    case '/r/no-content':
      res.writeHead(204, { 'x-kind': 'no-content' })
      res.end()
      return
    case '/r/not-modified':
      res.writeHead(304, { etag: '"v1"' })
      res.end()
      return
    case '/r/hints':
      res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })
      setTimeout(() => res.end('after hints'), 20)
      return
    default:
      res.writeHead(404)
      res.end()
  }
}

/** A raw upstream response full of hop-by-hop headers, with two Set-Cookie lines and one header that must pass. */
export const HOP_RESPONSE = [
  'HTTP/1.1 200 OK',
  'Connection: keep-alive, X-Secret-Hop',
  'X-Secret-Hop: must-not-pass',
  'Keep-Alive: timeout=5',
  'Proxy-Authenticate: Basic realm="x"',
  'Proxy-Connection: keep-alive',
  'Upgrade: h2c',
  'Set-Cookie: a=1; Path=/',
  'Set-Cookie: b=2; Expires=Wed, 21 Oct 2037 07:28:00 GMT',
  'X-Kept: yes',
  'Content-Length: 2',
  '',
  'ok',
].join('\r\n')
