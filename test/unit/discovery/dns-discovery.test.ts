import { Writable } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import type { DiscoveryConfig } from '../../../src/config/schema.js'
import { DnsDiscovery, type DiscoveryObserver } from '../../../src/discovery/dns-discovery.js'
import type { DnsDiscoveryError } from '../../../src/discovery/dns-error.js'
import { createLogger } from '../../../src/observability/logger.js'
import { poolLogObserver } from '../../../src/observability/pool-log.js'
import { UpstreamPool } from '../../../src/upstream/upstream-pool.js'
import { startDnsServer, stopDnsServers, type TestDnsServer } from '../../helpers/dns-server.js'
import { waitFor } from '../../helpers/wait.js'

const NAME = 'web.latch.test'
const INTERVAL = 50

type Round = { kind: 'refreshed' } | { kind: 'failed'; error: DnsDiscoveryError }
interface LogLine { msg: string; [key: string]: unknown }

/** A real pool fed by a real DnsDiscovery, with its log lines and rounds recorded. */
interface Harness {
  readonly pool: UpstreamPool
  readonly discovery: DnsDiscovery
  readonly rounds: Round[]
  readonly logs: LogLine[]
  /** Discovered endpoint ids that new requests may use (draining ones excluded). */
  active(): string[]
  /** Discovered endpoint ids being drained. */
  draining(): string[]
  messages(msg: string): LogLine[]
}

const started: Harness[] = []

function harness(dns: TestDnsServer, discovery: Partial<DiscoveryConfig> = {}, poolName = 'web'): Harness {
  const loaded = validateConfig(
    { pools: [{ name: poolName, drainTimeout: '60s', discovery: { dns: NAME, port: 8080, interval: `${INTERVAL}ms`, resolver: dns.address, ...discovery } }] },
    { file: 'test', baseDir: '.' },
  )
  const config = loaded.config.pools[0]!
  const logs: LogLine[] = []
  const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => done(void logs.push(JSON.parse(chunk.toString()) as LogLine)) })
  const logger = createLogger('debug', sink)
  const pool = new UpstreamPool(config, poolLogObserver(logger))
  const rounds: Round[] = []
  const observer: DiscoveryObserver = {
    dnsRefreshed: (name) => void (name === poolName && rounds.push({ kind: 'refreshed' })),
    dnsFailed: (name, error) => void (name === poolName && rounds.push({ kind: 'failed', error })),
  }
  const created: Harness = {
    pool,
    discovery: new DnsDiscovery(pool, config.discovery!, { logger, observer }),
    rounds,
    logs,
    active: () => pool.endpoints.filter((endpoint) => endpoint.removalDeadline === 0).map((endpoint) => endpoint.id),
    draining: () => pool.endpoints.filter((endpoint) => endpoint.removalDeadline !== 0).map((endpoint) => endpoint.id),
    messages: (msg) => logs.filter((line) => line.msg === msg),
  }
  started.push(created)
  return created
}

/** Waits until `count` more rounds than `from` have finished; returns them. */
async function roundsAfter(h: Harness, from: number, count: number): Promise<Round[]> {
  await waitFor(() => h.rounds.length >= from + count, 10_000, 10, `${count} discovery rounds`)
  return h.rounds.slice(from)
}

describe('DnsDiscovery', () => {
  let dns: TestDnsServer

  beforeAll(async () => {
    dns = await startDnsServer({})
  })
  afterEach(async () => {
    for (const h of started.splice(0)) {
      h.discovery.stop()
      await h.pool.close()
    }
    if (!dns.running()) await dns.restart()
  })
  afterAll(stopDnsServers)

  it('has the first answer applied when start() resolves, sorted, with ip:port ids', async () => {
    await dns.setRecords({ [NAME]: ['127.0.0.3', '127.0.0.2', '::1'] })
    const h = harness(dns)
    await h.discovery.start()
    expect(h.active()).toEqual(['127.0.0.2:8080', '127.0.0.3:8080', '[::1]:8080'])
    expect(h.pool.endpoints.map((endpoint) => endpoint.url.href)).toEqual(['http://127.0.0.2:8080/', 'http://127.0.0.3:8080/', 'http://[::1]:8080/'])
    expect(h.pool.endpoints.every((endpoint) => endpoint.source === 'discovery' && endpoint.weight === 1)).toBe(true)
    expect(h.rounds).toEqual([{ kind: 'refreshed' }])
    expect(h.messages('discovered endpoints changed')).toMatchObject([{ pool: 'web', dns: NAME, added: h.active(), removed: [] }])
  })

  it('gives two replicas asking the same server the same endpoint ids in the same order', async () => {
    await dns.setRecords({ [NAME]: ['127.0.0.12', '127.0.0.3', '127.0.0.20', 'fd00::7'] })
    const one = harness(dns, {}, 'one')
    const two = harness(dns, {}, 'two')
    await Promise.all([one.discovery.start(), two.discovery.start()])
    expect(one.active()).toEqual(['127.0.0.3:8080', '127.0.0.12:8080', '127.0.0.20:8080', '[fd00::7]:8080'])
    expect(two.active()).toEqual(one.active())
  })

  it('adds a new record and drains one that disappeared; a record coming back stops its drain', async () => {
    await dns.setRecords({ [NAME]: ['127.0.0.2', '127.0.0.3'] })
    const h = harness(dns)
    await h.discovery.start()
    await dns.setRecords({ [NAME]: ['127.0.0.3', '127.0.0.4'] })
    await waitFor(() => h.active().includes('127.0.0.4:8080'), 10_000, 10, 'the new record to be added')
    expect(h.active()).toEqual(['127.0.0.3:8080', '127.0.0.4:8080'])
    expect(h.draining()).toEqual(['127.0.0.2:8080'])
    expect(h.pool.endpoint('127.0.0.2:8080')?.state).toBe('draining')
    expect(h.messages('discovered endpoints changed').at(-1)).toMatchObject({ added: ['127.0.0.4:8080'], removed: ['127.0.0.2:8080'] })
    await dns.setRecords({ [NAME]: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] })
    await waitFor(() => h.draining().length === 0, 10_000, 10, 'the returning record to stop draining')
    expect(h.active()).toEqual(['127.0.0.2:8080', '127.0.0.3:8080', '127.0.0.4:8080'])
  })

  it('keeps the last known set while DNS is down, logs once per failure streak and once on recovery, and counts each failure', async () => {
    await dns.setRecords({ [NAME]: ['127.0.0.2', '127.0.0.3'] })
    const h = harness(dns)
    await h.discovery.start()
    await dns.stop()
    const from = h.rounds.length
    const rounds = await roundsAfter(h, from, 4)
    expect(rounds.slice(0, 4).every((round) => round.kind === 'failed' && round.error.code === 'ERR_DNS_FAILURE' && round.error.dnsCode === 'ECONNREFUSED')).toBe(true)
    expect(h.active()).toEqual(['127.0.0.2:8080', '127.0.0.3:8080'])
    expect(h.draining()).toEqual([])
    expect(h.messages('DNS discovery failed: keeping the last known endpoints')).toMatchObject([{ level: 'warn', pool: 'web', resolver: dns.address, code: 'ERR_DNS_FAILURE', dnsCode: 'ECONNREFUSED', endpoints: 2 }])
    expect(h.discovery.failures).toBeGreaterThanOrEqual(4)

    await dns.setRecords({ [NAME]: ['127.0.0.3'] }) // written while down; served after the restart
    await dns.restart()
    await waitFor(() => h.draining().includes('127.0.0.2:8080'), 10_000, 10, 'updates to resume after recovery')
    const recovered = h.messages('DNS discovery recovered')
    expect(recovered).toHaveLength(1)
    expect(recovered[0]).toMatchObject({ level: 'info', lastCode: 'ECONNREFUSED', endpoints: 1 })
    expect(recovered[0]!.failures).toBe(h.rounds.filter((round) => round.kind === 'failed').length)
    expect(h.messages('DNS discovery failed: keeping the last known endpoints')).toHaveLength(1)
  })

  it('treats a server that does not answer (timeouts) like any other DNS failure', async () => {
    await dns.setRecords({ [NAME]: ['127.0.0.2'] })
    const h = harness(dns)
    await h.discovery.start()
    dns.pause()
    try {
      const rounds = await roundsAfter(h, h.rounds.length, 1)
      expect(rounds[0]).toMatchObject({ kind: 'failed', error: { code: 'ERR_DNS_FAILURE', dnsCode: 'ETIMEOUT' } })
      expect(h.active()).toEqual(['127.0.0.2:8080'])
    } finally {
      dns.resume()
    }
  })

  it('empties the set only after emptyAfter consecutive NXDOMAIN answers, holding it until then', async () => {
    await dns.setRecords({ [NAME]: ['127.0.0.2', '127.0.0.3'] })
    const h = harness(dns, { emptyAfter: 3 })
    await h.discovery.start()
    const from = h.rounds.length
    await dns.setRecords({})
    await waitFor(() => h.draining().length === 2, 10_000, 10, 'the set to be emptied')
    const rounds = h.rounds.slice(from)
    // Rounds before the change still had records; then exactly two held answers, then the empty set.
    const firstHeld = rounds.findIndex((round) => round.kind === 'failed')
    expect(rounds.slice(firstHeld).map((round) => (round.kind === 'failed' ? `${round.kind} ${round.error.code} ${round.error.dnsCode}` : round.kind))).toEqual([
      'failed ERR_DNS_NO_RECORDS ENOTFOUND',
      'failed ERR_DNS_NO_RECORDS ENOTFOUND',
      'refreshed',
    ])
    expect(h.messages('DNS name has no records: keeping the last known endpoints until the answer repeats')).toMatchObject([{ level: 'warn', emptyAfter: 3, endpoints: 2 }])
    expect(h.messages('DNS name has no records: discovered endpoints removed')).toMatchObject([{ level: 'warn', removed: ['127.0.0.2:8080', '127.0.0.3:8080'] }])
  })

  it('restarts the NXDOMAIN count when an answer with records comes in between', async () => {
    await dns.setRecords({ [NAME]: ['127.0.0.2'] })
    const h = harness(dns, { emptyAfter: 100 })
    await h.discovery.start()
    await dns.setRecords({})
    await waitFor(() => h.rounds.some((round) => round.kind === 'failed'), 10_000, 10, 'a held NXDOMAIN')
    await dns.setRecords({ [NAME]: ['127.0.0.2'] })
    const from = h.rounds.length
    const rounds = await roundsAfter(h, from, 2)
    expect(rounds.at(-1)).toEqual({ kind: 'refreshed' })
    expect(h.active()).toEqual(['127.0.0.2:8080'])
    expect(h.messages('DNS discovery recovered')).toHaveLength(1)
  })

  it('applies NXDOMAIN at once when nothing is known yet (at start)', async () => {
    await dns.setRecords({})
    const h = harness(dns)
    await h.discovery.start()
    expect(h.pool.endpoints).toEqual([])
    expect(h.rounds).toEqual([{ kind: 'refreshed' }])
    expect(h.messages('DNS name has no records: the pool has no discovered endpoints')).toHaveLength(1)
  })

  it('starts with no endpoints when DNS is down at start, says so precisely, and fills the pool once DNS answers', async () => {
    await dns.setRecords({ [NAME]: ['127.0.0.2'] })
    await dns.stop()
    const h = harness(dns)
    await h.discovery.start()
    expect(h.pool.endpoints).toEqual([])
    expect(h.rounds).toMatchObject([{ kind: 'failed', error: { code: 'ERR_DNS_FAILURE', dnsCode: 'ECONNREFUSED' } }])
    expect(h.messages('DNS discovery failed at start: the pool has no discovered endpoints until DNS answers')).toMatchObject([
      { level: 'error', pool: 'web', dns: NAME, resolver: dns.address, code: 'ERR_DNS_FAILURE', dnsCode: 'ECONNREFUSED', query: `A ${NAME}` },
    ])
    await dns.restart()
    await waitFor(() => h.active().length === 1, 10_000, 10, 'the pool to fill once DNS answers')
    expect(h.messages('DNS discovery recovered')).toHaveLength(1)
  })

  it('resolves SRV records: ports from the records', async () => {
    await dns.setRecords({ 'a.latch.test': ['127.0.0.2'], 'b.latch.test': ['127.0.0.3'] })
    await dns.setSrv([
      { name: '_http._tcp.web.latch.test', target: 'b.latch.test', port: 9002 },
      { name: '_http._tcp.web.latch.test', target: 'a.latch.test', port: 9001 },
    ])
    const h = harness(dns, { dns: '_http._tcp.web.latch.test', srv: true, scheme: 'https', weight: 4 })
    await h.discovery.start()
    expect(h.pool.endpoints.map((endpoint) => `${endpoint.url.href} ${endpoint.weight}`)).toEqual(['https://127.0.0.2:9001/ 4', 'https://127.0.0.3:9002/ 4'])
    await dns.setSrv([])
  })

  it('stops resolving after stop()', async () => {
    await dns.setRecords({ [NAME]: ['127.0.0.2'] })
    const h = harness(dns)
    await h.discovery.start()
    h.discovery.stop()
    const stoppedAt = h.rounds.length
    await dns.setRecords({ [NAME]: ['127.0.0.5'] })
    // Observation window of many intervals: a running discovery would have applied the change.
    const until = Date.now() + 10 * INTERVAL
    await waitFor(() => Date.now() > until, 5000, INTERVAL)
    expect(h.rounds.length).toBe(stoppedAt)
    expect(h.active()).toEqual(['127.0.0.2:8080'])
  })
})
