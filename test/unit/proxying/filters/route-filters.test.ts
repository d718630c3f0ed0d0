import { createHash } from 'node:crypto'
import { PassThrough, Readable } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { SecretRing } from '../../../../src/affinity/secret-ring.js'
import { Mirror, MirrorTee, sendMirrors, type MirroredRequest } from '../../../../src/proxying/filters/mirror.js'
import { poolTarget, type PoolTarget } from '../../../../src/proxying/pool-target.js'
import { ruleTarget, type BackendTarget } from '../../../../src/proxying/rule-target.js'
import { singlePoolAction, type RouteAction, type RouteFilter } from '../../../../src/routing/route-action.js'
import { MemoryAffinityStore } from '../../../../src/stores/memory-store.js'
import { UpstreamPool } from '../../../../src/upstream/upstream-pool.js'
import { startUpstream, type TestUpstream } from '../../../helpers/upstream.js'
import { waitFor } from '../../../helpers/wait.js'
import { poolConfig, RecordingObserver } from '../../upstream/pool-fixtures.js'

const upstreams: TestUpstream[] = []
const opened: { close(): Promise<void> }[] = []
afterEach(async () => {
  // Upstreams first: their connections end, so no pool waits for a hanging copy.
  for (const upstream of upstreams.splice(0)) await upstream.stop().catch(() => undefined)
  for (const item of opened.splice(0)) await item.close()
})

function targetsFor(pools: Record<string, string[]>, maxRequestsPerEndpoint = 128): Map<string, PoolTarget> {
  const store = new MemoryAffinityStore()
  opened.push(store)
  const targets = new Map<string, PoolTarget>()
  for (const [name, endpoints] of Object.entries(pools)) {
    const pool = new UpstreamPool(poolConfig({ name, endpoints, limits: { maxRequestsPerEndpoint } }), new RecordingObserver())
    opened.push(pool)
    targets.set(name, poolTarget(pool, { ring: new SecretRing(['0123456789abcdef0123456789abcdef']), store }))
  }
  return targets
}

const action = (parts: Partial<RouteAction>): RouteAction => ({ ...singlePoolAction('httproute/default/r/rule-0', 'web'), ...parts })
const headerFilter: RouteFilter = { type: 'RequestHeaderModifier', modifier: { set: [['x-a', '1']], add: [], remove: [] } }

describe('compiled route filters on RuleTarget and BackendTarget', () => {
  it('a rule without filters, timeouts or retry compiles to no filters at all (the hot path only checks the field)', () => {
    const targets = targetsFor({ web: ['http://127.0.0.1:10001'] })
    const rule = ruleTarget(action({}), targets)
    expect(rule.filters).toBeUndefined()
    expect((rule.choose({} as never) as BackendTarget).filters).toBeUndefined()
  })

  it('compiles rule filters, timeouts and retry on the rule, backendRef filters on its backend', () => {
    const targets = targetsFor({ web: ['http://127.0.0.1:10001'] })
    const rule = ruleTarget(
      action({
        filters: [headerFilter],
        backends: [{ pool: 'web', weight: 1, filters: [{ type: 'ResponseHeaderModifier', modifier: { set: [], add: [['x-b', '2']], remove: [] } }] }],
        timeouts: { requestMs: 500, backendRequestMs: undefined },
        retry: { attempts: 3, codes: [500], backoffMs: 10 },
      }),
      targets,
    )
    expect([rule.filters?.requestEdits.length, rule.filters?.responseEdits.length, rule.filters?.requestTimeoutMs, rule.filters?.retry?.attempts]).toEqual([1, 0, 500, 3])
    const backend = rule.choose({} as never) as BackendTarget
    expect([backend.filters?.requestEdits.length, backend.filters?.responseEdits.length, backend.filters?.retry]).toEqual([0, 1, undefined])
  })

  it('a rule without backends answers by itself: its redirect, else 500 ERR_NO_BACKEND', () => {
    const targets = targetsFor({ web: ['http://127.0.0.1:10001'] })
    const redirect: RouteFilter = { type: 'RequestRedirect', redirect: { scheme: 'https', hostname: undefined, port: undefined, path: undefined, statusCode: 301 } }
    const redirecting = ruleTarget(action({ backends: [], filters: [redirect] }), targets)
    expect([redirecting.filters?.answersDirectly, redirecting.filters?.noBackend]).toEqual([true, false])
    const empty = ruleTarget(action({ backends: [], filters: [headerFilter] }), targets)
    expect([empty.filters?.answersDirectly, empty.filters?.noBackend]).toEqual([true, true])
    expect(empty.choose({} as never)).toMatchObject({ code: 'ERR_NO_BACKEND' })
  })

  it('drops a mirror with a share of 0 and a header modifier that only names protected headers', () => {
    const targets = targetsFor({ web: ['http://127.0.0.1:10001'], shadow: ['http://127.0.0.1:10002'] })
    const rule = ruleTarget(
      action({
        filters: [
          { type: 'RequestMirror', mirror: { pool: 'shadow', share: 0 } },
          { type: 'RequestHeaderModifier', modifier: { set: [['Host', 'x'], ['content-length', '1']], add: [], remove: [] } },
        ],
      }),
      targets,
    )
    expect(rule.filters).toBeUndefined()
  })
})

describe('Mirror', () => {
  let shadow: TestUpstream

  async function mirrorTo(maxRequestsPerEndpoint = 128, share = 1, random = Math.random): Promise<Mirror> {
    shadow = await startUpstream('shadow')
    upstreams.push(shadow)
    const target = targetsFor({ shadow: [shadow.url] }, maxRequestsPerEndpoint).get('shadow') as PoolTarget
    return new Mirror(target.pool, share, random)
  }

  const request = (body: MirroredRequest['body'] = null): MirroredRequest => ({ method: 'POST', target: '/m?x=1', upstreamHeaders: ['host', 'front.example', 'x-a', '1'], body })

  it('sends a copy of a bodiless or buffered request, with the same headers and body bytes, and drops the answer', async () => {
    const mirror = await mirrorTo()
    sendMirrors([mirror], request(), 'front.example')
    sendMirrors([mirror], request(Buffer.from('hello')), 'front.example')
    await waitFor(() => shadow.arrivals.length === 2)
    expect(shadow.arrivals.map((arrival) => [arrival.url, arrival.headers.host, arrival.headers['x-a'], arrival.bodyBytes])).toEqual([
      ['/m?x=1', 'front.example', '1', 0],
      ['/m?x=1', 'front.example', '1', 5],
    ])
    await waitFor(() => mirror.pool.endpoints.every((endpoint) => endpoint.inflight === 0))
    expect(mirror.counts).toEqual({ sent: 2, skipped: 0, failed: 0 })
  })

  it('tees a streamed body: the real request reads it unchanged through the tee, the copy gets the same bytes', async () => {
    const mirror = await mirrorTo()
    const chunks = Array.from({ length: 20 }, (_, i) => Buffer.alloc(10_000, 97 + i))
    const mirrored = request(Readable.from(chunks))
    sendMirrors([mirror], mirrored, 'front.example')
    expect(mirrored.body).toBeInstanceOf(MirrorTee)
    const read: Buffer[] = []
    for await (const chunk of mirrored.body as Readable) read.push(chunk as Buffer)
    expect(Buffer.concat(read).equals(Buffer.concat(chunks))).toBe(true)
    const copy = await waitFor(() => shadow.arrivals[0])
    expect(copy.bodyBytes).toBe(200_000)
    expect(copy.bodySha256).toBe(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'))
  })

  it('cuts off a copy that falls behind instead of holding the real body back', async () => {
    const mirror = await mirrorTo()
    shadow.mode = { kind: 'hang' }
    const copy = new PassThrough().on('error', () => undefined)
    const tee = new MirrorTee([copy])
    // Nobody reads the copy: the real request still gets every byte.
    const source = Readable.from(Array.from({ length: 40 }, () => Buffer.alloc(64 * 1024, 1)))
    const read: Buffer[] = []
    source.pipe(tee)
    for await (const chunk of tee) read.push(chunk as Buffer)
    expect(Buffer.concat(read).length).toBe(40 * 64 * 1024)
    expect(copy.destroyed).toBe(true)
    expect(mirror.counts.sent).toBe(0)
  })

  it('never waits for a busy mirror pool: a copy without a free slot is skipped', async () => {
    const mirror = await mirrorTo(1)
    shadow.mode = { kind: 'hang' }
    sendMirrors([mirror], request(), 'front.example')
    sendMirrors([mirror], request(), 'front.example')
    const streamed = request(Readable.from(['x']))
    sendMirrors([mirror], streamed, 'front.example')
    // The real request still reads its whole body through the tee.
    const read: string[] = []
    for await (const chunk of streamed.body as Readable) read.push(String(chunk))
    expect(read.join('')).toBe('x')
    expect(mirror.counts).toEqual({ sent: 1, skipped: 2, failed: 0 })
  })

  it('mirrors only its share of requests', async () => {
    const draws = [0.1, 0.5, 0.29, 0.3]
    const mirror = await mirrorTo(128, 0.3, () => draws.shift() as number)
    for (let i = 0; i < 4; i++) sendMirrors([mirror], request(), 'front.example')
    expect(mirror.counts.sent).toBe(2)
  })

  it('counts a copy that fails, and nothing else happens', async () => {
    const mirror = await mirrorTo()
    await shadow.stop()
    sendMirrors([mirror], request(), 'front.example')
    await waitFor(() => mirror.counts.failed === 1)
    expect(mirror.pool.endpoints[0]?.inflight).toBe(0)
  })
})
