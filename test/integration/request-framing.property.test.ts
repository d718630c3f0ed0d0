/**
 * Property: random request heads and bodies, sent raw to the real CLI, never reach the upstream with an
 * ambiguous framing or as two requests (every head the upstream reads carries Latch's own `Via`), are either forwarded once or refused with a 4xx, and leave no
 * client connection behind. The upstream reads what arrives with its own strict parser
 * (helpers/recording-upstream.ts), so a request Latch and the upstream would split differently shows.
 *
 * Some heads ask for an upgrade (WebSocket or h2c): the upstream never accepts one, so it answers 200
 * or, when the head announces a body that Latch does not forward before a 101, waits for it; the
 * pool's `timeouts.responseHeaders` (1 s here) then answers 504 and releases both connections.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { parsePrometheusText, samplesOf } from '../helpers/prometheus-text.js'
import { rawRequest } from '../helpers/raw-http.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { waitFor } from '../helpers/wait.js'

let latch: LatchProcess
let upstream: RecordingUpstream

beforeAll(async () => {
  upstream = await startRecordingUpstream()
  // Upgrades the upstream leaves waiting are answered after 1 s, well within the connection check's 10 s.
  latch = await startLatch({ config: { listen: '127.0.0.1:0', log: { level: 'info', access: 'off' }, pools: [{ name: 'web', endpoints: [upstream.url], timeouts: { responseHeaders: '1s' } }] } })
})

afterAll(async () => {
  await latch?.stop()
  await upstream?.stop()
})

async function clientConnections(): Promise<number> {
  const text = await (await fetch(`${latch.adminUrl}/metrics`)).text()
  return samplesOf(parsePrometheusText(text), 'latch_client_connections').reduce((sum, sample) => sum + sample.value, 0)
}

const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: app.test\r\n\r\n'
/** Latch adds `Via` to every request it forwards; a head without it did not come from Latch's parser. */
const LATCH_HEAD = /\r\nvia: 1\.[01] latch(\r\n|$)/i

const framingHeader = fc.oneof(
  fc.nat({ max: 60 }).map((n) => `Content-Length: ${n}`),
  fc.constantFrom(
    'Content-Length: 0',
    'Content-Length:  5 ',
    'Content-Length: +5',
    'Content-Length: 0x5',
    'Content-Length: 5, 5',
    'Content-Length: -1',
    'Content-Length: 99999999999999999999',
    'Transfer-Encoding: chunked',
    'Transfer-Encoding: CHUNKED',
    'Transfer-Encoding: gzip, chunked',
    'Transfer-Encoding: chunked, gzip',
    'Transfer-Encoding: chunked, chunked',
    'Transfer-Encoding: identity',
    'Transfer-Encoding: xchunked',
    'Transfer-Encoding : chunked',
    'Transfer-Encoding:\tchunked',
    'Transfer-Encoding:\x0bchunked',
    'Transfer-Encoding: chunked\r\n x',
    ' Transfer-Encoding: chunked',
    'Transfer_Encoding: chunked',
  ),
)
const otherHeader = fc
  .tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/), fc.stringMatching(/^[ -~]{0,24}$/))
  .filter(([name]) => !['upgrade', 'expect', 'host'].includes(name.toLowerCase()))
  .map(([name, value]) => `${name}: ${value}`)
const chunked = (text: string): string => (text === '' ? '' : `${text.length.toString(16)}\r\n${text}\r\n`) + '0\r\n\r\n'
const body = fc.oneof(
  fc.constant(''),
  fc.stringMatching(/^[ -~]{0,40}$/),
  fc.stringMatching(/^[ -~]{0,40}$/).map(chunked),
  fc.constantFrom(`0\r\n\r\n${SMUGGLED}`, `5\r\nhello\r\n0\r\n\r\n${SMUGGLED}`, `${SMUGGLED}`, 'zz\r\nhello\r\n0\r\n\r\n', '5\r\nhel\r\n0\r\n\r\n', '5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n'),
)
const request = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
  path: fc.stringMatching(/^[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,20}$/),
  version: fc.constantFrom('HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'),
  // Weighted towards requests Latch accepts, so that forwarding is exercised as much as refusing.
  host: fc.oneof({ arbitrary: fc.constant(true), weight: 5 }, { arbitrary: fc.constant(false), weight: 1 }),
  headers: fc.array(fc.oneof({ arbitrary: otherHeader, weight: 3 }, { arbitrary: framingHeader, weight: 2 }, { arbitrary: fc.constantFrom('Connection: close', 'Connection: keep-alive'), weight: 1 }), { maxLength: 4 }),
  // One request in four asks for an upgrade (its Connection header may then come twice: random too).
  upgrade: fc.oneof(
    { arbitrary: fc.constant(undefined), weight: 3 },
    { arbitrary: fc.constantFrom('Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA', 'Connection: upgrade\r\nUpgrade: WebSocket'), weight: 1 },
  ),
  newline: fc.oneof({ arbitrary: fc.constant('\r\n'), weight: 9 }, { arbitrary: fc.constant('\n'), weight: 1 }),
  body,
})
type GeneratedRequest = typeof request extends fc.Arbitrary<infer T> ? T : never

let cases = 0
function bytesOf(generated: GeneratedRequest, id: number): string {
  const nl = generated.newline
  const upgrade = generated.upgrade === undefined ? [] : generated.upgrade.split('\r\n')
  const lines = [`${generated.method} /case-${id}/${generated.path} ${generated.version}`, ...(generated.host ? ['Host: app.test'] : []), ...upgrade, ...generated.headers]
  return `${lines.join(nl)}${nl}${nl}${generated.body}`
}

describe('request framing (property)', () => {
  it('forwards once with one unambiguous framing or refuses with a 4xx, never as two requests, and releases every connection', async () => {
    const baseline = await clientConnections()
    await fc.assert(
      fc.asyncProperty(request, async (generated) => {
        const id = ++cases
        const result = await rawRequest(latch.port, bytesOf(generated, id), 150)
        const mine = upstream.heads.filter((head) => head.target.startsWith(`/case-${id}/`))
        expect(upstream.heads.filter((head) => head.problems.length > 0)).toEqual([])
        // Every head the upstream reads is one Latch wrote (a client pipelining a second request is fine;
        // a request the upstream finds inside a body Latch forwarded is smuggling).
        expect(upstream.heads.filter((head) => !LATCH_HEAD.test(head.head))).toEqual([])
        expect(mine.length).toBeLessThanOrEqual(1)
        if (result.status !== undefined && result.status < 300) expect(mine).toHaveLength(1)
        // Not forwarded: refused with a 4xx, or no answer yet (Latch still waits for the rest of the head or body).
        if (mine.length === 0 && result.status !== undefined) expect(result.status).toBeGreaterThanOrEqual(400)
        if (mine.length === 0 && result.status !== undefined) expect(result.status).toBeLessThan(500)
      }),
      { numRuns: 300, interruptAfterTimeLimit: 30_000 },
    )
    // Late arrivals (a smuggled request would come after its carrier) and the connections.
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(upstream.heads.filter((head) => head.problems.length > 0 || !LATCH_HEAD.test(head.head))).toEqual([])
    await waitFor(async () => (await clientConnections()) === baseline, 10_000, 100, `latch_client_connections back to ${baseline}`)
    // The upgrade heads were exercised: some reached the upstream (as upgrades, after Latch's checks).
    const upgrades = upstream.heads.filter((head) => /\r\nupgrade: /i.test(head.head)).length
    console.log(`request framing: ${cases} cases, ${upstream.heads.length} heads forwarded, ${upgrades} of them upgrades`)
    expect(upgrades).toBeGreaterThan(0)
  }, 90_000)
})
