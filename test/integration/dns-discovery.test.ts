import { request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startDnsServer, stopDnsServers, type AddressRecords, type TestDnsServer } from '../helpers/dns-server.js'
import { accessLines, startLatch, type LatchProcess, type LogLine } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

// Three upstreams on one port, told apart by address: Linux routes all of 127.0.0.0/8 to lo.
const NAME = 'web.latch.test'
const INTERVAL_MS = 200
const DRAIN_MS = 2000

interface Answer {
  readonly status: number
  readonly upstream: string | undefined
  readonly code: string | undefined
  /** When the response was complete (ms since epoch, comparable with log times). */
  readonly at: number
  readonly body: string
}

async function send(latch: LatchProcess, path = '/'): Promise<Answer> {
  const response = await request(`${latch.url}${path}`)
  const body = await response.body.text()
  const header = (name: string) => (typeof response.headers[name] === 'string' ? (response.headers[name] as string) : undefined)
  return { status: response.statusCode, upstream: header('x-upstream'), code: header('x-latch-error'), at: Date.now(), body }
}

/** The value of a `pool="web"` series on the admin `/metrics` page. */
async function metric(latch: LatchProcess, name: string): Promise<number> {
  const response = await request(`${latch.adminUrl as string}/metrics`)
  const text = await response.body.text()
  const match = new RegExp(`^${name}\\{pool="web"\\} (\\d+)$`, 'm').exec(text)
  if (match === null) throw new Error(`no ${name}{pool="web"} on /metrics`)
  return Number(match[1])
}

function logTime(line: LogLine): number {
  return Date.parse(String(line.time))
}

function logged(latch: LatchProcess, msg: string, fields: Record<string, unknown> = {}): LogLine[] {
  return latch.logs.filter((line) => line.msg === msg && Object.entries(fields).every(([key, value]) => JSON.stringify(line[key]) === JSON.stringify(value)))
}

function waitForLog(latch: LatchProcess, msg: string, fields: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<LogLine> {
  return waitFor(() => logged(latch, msg, fields)[0], timeoutMs, 20, `log line "${msg}" ${JSON.stringify(fields)}`)
}

/** Starts upstreams a, b, c on 127.0.0.2, .3 and .4, all on the same port. */
async function startUpstreamsOnOnePort(): Promise<TestUpstream[]> {
  for (let attempt = 1; ; attempt++) {
    const a = await startUpstream('a', { host: '127.0.0.2' })
    try {
      const b = await startUpstream('b', { host: '127.0.0.3', port: a.port })
      const c = await startUpstream('c', { host: '127.0.0.4', port: a.port }).catch(async (error: unknown) => {
        await b.stop()
        throw error
      })
      return [a, b, c]
    } catch (error) {
      // The port was free on 127.0.0.2 but taken on another address: try another one.
      await a.stop()
      if (attempt >= 5) throw error
    }
  }
}

describe('DNS discovery through the CLI (a real DNS server on UDP, records changed at runtime)', () => {
  let a: TestUpstream
  let b: TestUpstream
  let c: TestUpstream
  let latch: LatchProcess | undefined
  let dns: TestDnsServer

  const ip = (upstream: TestUpstream): string => new URL(upstream.url).hostname
  const id = (upstream: TestUpstream): string => `${ip(upstream)}:${upstream.port}`

  async function start(records: AddressRecords, discovery: Record<string, unknown> = {}): Promise<LatchProcess> {
    dns ??= await startDnsServer(records)
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        pools: [{ name: 'web', drainTimeout: `${DRAIN_MS}ms`, discovery: { dns: NAME, port: a.port, interval: `${INTERVAL_MS}ms`, resolver: dns.address, ...discovery } }],
      },
    })
    return latch
  }

  beforeAll(async () => {
    ;[a, b, c] = (await startUpstreamsOnOnePort()) as [TestUpstream, TestUpstream, TestUpstream]
  })
  afterEach(async () => {
    await latch?.stop()
    latch = undefined
    await stopDnsServers()
    dns = undefined as unknown as TestDnsServer
    for (const upstream of [a, b, c]) upstream.mode = { kind: 'echo' }
  })
  afterAll(async () => {
    await Promise.all([a, b, c].map((upstream) => upstream.stop()))
  })

  it('resolves before serving, then adds an endpoint when its record appears and sends it traffic', async () => {
    const proxy = await start({ [NAME]: [ip(a)] })
    const first = logged(proxy, 'discovered endpoints changed')
    expect(first).toMatchObject([{ pool: 'web', endpoints: [id(a)], added: [id(a)] }])
    expect(proxy.logs.indexOf(first[0]!)).toBeLessThan(proxy.logs.findIndex((line) => line.msg === 'latch is serving'))
    for (let i = 0; i < 4; i++) expect(await send(proxy)).toMatchObject({ status: 200, upstream: 'a' })

    const changed = Date.now()
    await dns.setRecords({ [NAME]: [ip(b), ip(a)] })
    const added = await waitForLog(proxy, 'discovered endpoints changed', { added: [id(b)] })
    expect(added).toMatchObject({ endpoints: [id(a), id(b)], removed: [] })
    expect(logTime(added)).toBeGreaterThanOrEqual(changed - 5)
    const toB = await waitFor(async () => (await send(proxy)).upstream === 'b', 10_000, 0, 'a request answered by the new endpoint')
    expect(toB).toBe(true)
    const after = [await send(proxy), await send(proxy), await send(proxy), await send(proxy)]
    expect(new Set(after.map((answer) => answer.upstream))).toEqual(new Set(['a', 'b']))
  })

  it('drains an endpoint whose record disappears: its in-flight request completes, new requests avoid it, it is gone after drainTimeout', async () => {
    let release: () => void = () => undefined
    const released = new Promise<void>((resolve) => (release = resolve))
    b.mode = {
      kind: 'custom',
      handle: (req, res) => {
        const reply = (): void => void res.writeHead(200, { 'x-upstream': 'b' }).end(`b answered ${req.url}`)
        if (req.url === '/slow') void released.then(reply)
        else reply()
      },
    }
    const proxy = await start({ [NAME]: [ip(a), ip(b)] })
    const { answer: slow } = await holdSlowRequestOn(proxy, b)

    await dns.setRecords({ [NAME]: [ip(a)] })
    // The change is logged after the pool applied it, so once it is seen every later request avoids b.
    await waitForLog(proxy, 'discovered endpoints changed', { removed: [id(b)] })
    const draining = logged(proxy, 'endpoint state changed', { endpoint: id(b), to: 'draining' })[0]!
    expect(draining).toMatchObject({ reason: 'removed from discovery' })
    const afterRemoval = await Promise.all(Array.from({ length: 6 }, () => send(proxy)))
    expect(afterRemoval.map((answer) => `${answer.status} ${answer.upstream}`)).toEqual(Array(6).fill('200 a'))

    release()
    expect(await slow).toMatchObject({ status: 200, upstream: 'b', body: 'b answered /slow' })
    const access = await waitFor(() => accessLines(proxy).find((line) => line.path === '/slow' && line.endpoint === id(b)), 5000, 20, 'access line of the slow request')
    expect(access).toMatchObject({ status: 200 })

    const removed = await waitForLog(proxy, 'endpoint removed after draining', { endpoint: id(b) }, DRAIN_MS + 10_000)
    expect(logTime(removed) - logTime(draining)).toBeGreaterThanOrEqual(DRAIN_MS - 5)
    expect(await send(proxy)).toMatchObject({ status: 200, upstream: 'a' })
  })

  it('keeps the last known endpoints while DNS is down, logs the failure once, and resumes updates when DNS is back', async () => {
    const proxy = await start({ [NAME]: [ip(a), ip(b)] })
    await dns.stop()
    const failed = await waitForLog(proxy, 'DNS discovery failed: keeping the last known endpoints')
    expect(failed).toMatchObject({ level: 'warn', pool: 'web', dns: NAME, resolver: dns.address, code: 'ERR_DNS_FAILURE', dnsCode: 'ECONNREFUSED', endpoints: 2 })

    // For several intervals after the failure, both endpoints keep serving.
    const answers: Answer[] = []
    const until = logTime(failed) + 5 * INTERVAL_MS
    await waitFor(async () => answers.push(await send(proxy)) > 0 && Date.now() > until, 10_000, 10, 'an observation window of 5 intervals')
    expect(answers.every((answer) => answer.status === 200)).toBe(true)
    expect(new Set(answers.map((answer) => answer.upstream))).toEqual(new Set(['a', 'b']))

    await dns.setRecords({ [NAME]: [ip(a), ip(c)] })
    await dns.restart()
    const recovered = await waitForLog(proxy, 'DNS discovery recovered')
    // Several rounds failed while down (counted), but the failure was logged once.
    expect(recovered).toMatchObject({ level: 'info', pool: 'web', lastCode: 'ECONNREFUSED', endpoints: 2 })
    expect(recovered.failures as number).toBeGreaterThanOrEqual(2)
    expect(logged(proxy, 'DNS discovery failed: keeping the last known endpoints')).toHaveLength(1)
    expect(logged(proxy, 'DNS discovery recovered')).toHaveLength(1)
    // Every failed round is counted on /metrics, and successful ones go on being counted.
    expect(await metric(proxy, 'latch_dns_failures_total')).toBe(recovered.failures)
    const refreshes = await metric(proxy, 'latch_dns_refreshes_total')
    expect(refreshes).toBeGreaterThanOrEqual(2)
    await waitFor(async () => (await metric(proxy, 'latch_dns_refreshes_total')) > refreshes, 10_000, 50, 'refreshes to be counted after recovery')
    await waitForLog(proxy, 'discovered endpoints changed', { added: [id(c)], removed: [id(b)] })
    await waitFor(async () => (await send(proxy)).upstream === 'c', 10_000, 0, 'traffic to the endpoint added after recovery')
  })

  it('starts serving with an empty pool when DNS is down at start, says so before serving, and fills it when DNS answers', async () => {
    dns = await startDnsServer({ [NAME]: [ip(a)] })
    await dns.stop()
    const proxy = await start({})
    const failedAtStart = logged(proxy, 'DNS discovery failed at start: the pool has no discovered endpoints until DNS answers')
    expect(failedAtStart).toMatchObject([{ level: 'error', pool: 'web', dns: NAME, resolver: dns.address, code: 'ERR_DNS_FAILURE', dnsCode: 'ECONNREFUSED' }])
    expect(proxy.logs.indexOf(failedAtStart[0]!)).toBeLessThan(proxy.logs.findIndex((line) => line.msg === 'latch is serving'))
    expect(await send(proxy)).toMatchObject({ status: 503, code: 'ERR_NO_ENDPOINT' })

    await dns.restart()
    await waitFor(async () => (await send(proxy)).upstream === 'a', 10_000, 20, 'traffic once DNS answers')
    expect(logged(proxy, 'DNS discovery recovered')).toHaveLength(1)
  })

  it('removes the endpoints of a name that no longer exists only after emptyAfter NXDOMAIN answers in a row', async () => {
    const emptyAfter = 5
    const proxy = await start({ [NAME]: [ip(a)] }, { emptyAfter })
    await dns.setRecords({})
    const held = await waitForLog(proxy, 'DNS name has no records: keeping the last known endpoints until the answer repeats')
    expect(held).toMatchObject({ level: 'warn', code: 'ERR_DNS_NO_RECORDS', dnsCode: 'ENOTFOUND', emptyAfter, endpoints: 1 })
    const during = await send(proxy)
    const emptied = await waitForLog(proxy, 'DNS name has no records: discovered endpoints removed')
    expect(emptied).toMatchObject({ level: 'warn', removed: [id(a)] })
    // emptyAfter - 1 more rounds, each at least one interval after the previous one.
    expect(logTime(emptied) - logTime(held)).toBeGreaterThanOrEqual((emptyAfter - 1) * INTERVAL_MS - 5)
    if (during.at < logTime(emptied)) expect(during).toMatchObject({ status: 200, upstream: 'a' })
    expect(await send(proxy)).toMatchObject({ status: 503, code: 'ERR_NO_ENDPOINT' })
  })

  /** Sends /slow requests until one is being held by `upstream`; returns that request's pending answer (wrapped, so it is not awaited). */
  async function holdSlowRequestOn(proxy: LatchProcess, upstream: TestUpstream): Promise<{ answer: Promise<Answer> }> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = upstream.arrivals.length
      const pending = send(proxy, '/slow')
      let answered = false
      // Settled here too, so a failing test does not also report the request as unhandled.
      pending.then(() => (answered = true), () => (answered = true))
      await waitFor(() => answered || upstream.arrivals.length > before, 5000, 10, 'the slow request to be answered or held')
      if (!answered) return { answer: pending }
    }
    throw new Error(`no /slow request reached ${upstream.name}`)
  }
})
