import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DnsDiscoveryError, toDiscoveryError } from '../../../src/discovery/dns-error.js'
import { combineAnswers, queryTargets } from '../../../src/discovery/dns-query.js'
import { startDnsServer, stopDnsServers, testResolver, type TestDnsServer } from '../../helpers/dns-server.js'

/** A rejection as node:dns gives it: an Error with a string `code`. */
function dnsError(code: string): Error {
  return Object.assign(new Error(`query ${code}`), { code })
}

const ok = (value: string[]): PromiseSettledResult<string[]> => ({ status: 'fulfilled', value })
const failed = (code: string): PromiseSettledResult<string[]> => ({ status: 'rejected', reason: dnsError(code) })

describe('DnsDiscoveryError', () => {
  it.each([
    ['ENOTFOUND', 'ERR_DNS_NO_RECORDS'],
    ['ENODATA', 'ERR_DNS_NO_RECORDS'],
    ['ETIMEOUT', 'ERR_DNS_FAILURE'],
    ['ESERVFAIL', 'ERR_DNS_FAILURE'],
    ['ECONNREFUSED', 'ERR_DNS_FAILURE'],
    ['EREFUSED', 'ERR_DNS_FAILURE'],
  ])('classifies %s as %s', (dnsCode, code) => {
    const error = toDiscoveryError(dnsError(dnsCode), 'A web')
    expect(error).toBeInstanceOf(DnsDiscoveryError)
    expect(error).toMatchObject({ code, dnsCode, query: 'A web' })
  })

  it('counts an error without a code as a failure', () => {
    expect(toDiscoveryError(new Error('boom'), 'A web')).toMatchObject({ code: 'ERR_DNS_FAILURE', dnsCode: 'EUNKNOWN' })
  })
})

describe('combineAnswers (A and AAAA of one name)', () => {
  it('joins both families', () => {
    expect(combineAnswers('web', [ok(['10.0.0.1']), ok(['fd00::1'])])).toEqual(['10.0.0.1', 'fd00::1'])
  })

  it('takes one family when the other has no records', () => {
    expect(combineAnswers('web', [ok(['10.0.0.1']), failed('ENODATA')])).toEqual(['10.0.0.1'])
    expect(combineAnswers('web', [failed('ENODATA'), ok(['fd00::1'])])).toEqual(['fd00::1'])
  })

  it('fails the whole when one family failed, even if the other answered (a partial set must not replace a whole one)', () => {
    expect(() => combineAnswers('web', [ok(['10.0.0.1']), failed('ETIMEOUT')])).toThrow(expect.objectContaining({ code: 'ERR_DNS_FAILURE', dnsCode: 'ETIMEOUT', query: 'AAAA web' }))
    expect(() => combineAnswers('web', [failed('ESERVFAIL'), ok(['fd00::1'])])).toThrow(expect.objectContaining({ code: 'ERR_DNS_FAILURE', dnsCode: 'ESERVFAIL', query: 'A web' }))
  })

  it('reports no records when neither family has any', () => {
    expect(() => combineAnswers('web', [failed('ENOTFOUND'), failed('ENOTFOUND')])).toThrow(expect.objectContaining({ code: 'ERR_DNS_NO_RECORDS', dnsCode: 'ENOTFOUND' }))
    expect(() => combineAnswers('web', [ok([]), ok([])])).toThrow(expect.objectContaining({ code: 'ERR_DNS_NO_RECORDS' }))
  })
})

describe('queryTargets against a real DNS server (UDP, test/helpers/dns-server.ts)', () => {
  let dns: TestDnsServer

  beforeAll(async () => {
    dns = await startDnsServer({
      'web.latch.test': ['10.0.0.2', '10.0.0.1', 'fd00::1'],
      'v4only.latch.test': ['10.0.0.9'],
      'a.latch.test': ['10.0.1.1'],
      'b.latch.test': ['10.0.1.2', 'fd00::2'],
    })
  })
  afterAll(stopDnsServers)

  it('returns A and AAAA addresses with the configured port', async () => {
    const targets = await queryTargets(testResolver(dns.address), { dns: 'web.latch.test', port: 8080, srv: false })
    expect(targets.map((target) => `${target.address} ${target.port}`).sort()).toEqual(['10.0.0.1 8080', '10.0.0.2 8080', 'fd00::1 8080'])
  })

  it('accepts an IPv4-only name (NODATA for AAAA)', async () => {
    expect(await queryTargets(testResolver(dns.address), { dns: 'v4only.latch.test', port: 80, srv: false })).toEqual([{ address: '10.0.0.9', port: 80 }])
  })

  it('reports NXDOMAIN as no records', async () => {
    await expect(queryTargets(testResolver(dns.address), { dns: 'missing.latch.test', port: 80, srv: false })).rejects.toMatchObject({ code: 'ERR_DNS_NO_RECORDS', dnsCode: 'ENOTFOUND' })
  })

  it('reports a refused query (name outside the server\'s zones) as a DNS failure', async () => {
    await expect(queryTargets(testResolver(dns.address), { dns: 'web.elsewhere.invalid', port: 80, srv: false })).rejects.toMatchObject({ code: 'ERR_DNS_FAILURE', dnsCode: 'EREFUSED' })
  })

  it('resolves SRV targets to addresses with each record\'s port, skipping targets without addresses', async () => {
    await dns.setSrv([
      { name: '_http._tcp.web.latch.test', target: 'a.latch.test', port: 9001 },
      { name: '_http._tcp.web.latch.test', target: 'b.latch.test', port: 9002, priority: 10, weight: 5 },
      { name: '_http._tcp.web.latch.test', target: 'gone.latch.test', port: 9003 },
    ])
    const targets = await queryTargets(testResolver(dns.address), { dns: '_http._tcp.web.latch.test', srv: true })
    expect(targets.map((target) => `${target.address} ${target.port}`).sort()).toEqual(['10.0.1.1 9001', '10.0.1.2 9002', 'fd00::2 9002'])
  })

  it('reports an SRV name whose targets have no addresses as no records', async () => {
    await dns.setSrv([{ name: '_http._tcp.empty.latch.test', target: 'gone.latch.test', port: 9003 }])
    await expect(queryTargets(testResolver(dns.address), { dns: '_http._tcp.empty.latch.test', srv: true })).rejects.toMatchObject({ code: 'ERR_DNS_NO_RECORDS' })
    await expect(queryTargets(testResolver(dns.address), { dns: '_http._tcp.none.latch.test', srv: true })).rejects.toMatchObject({ code: 'ERR_DNS_NO_RECORDS', dnsCode: 'ENOTFOUND' })
  })

  it('reports a server that does not answer (paused) as a timeout failure', async () => {
    dns.pause()
    try {
      await expect(queryTargets(testResolver(dns.address), { dns: 'web.latch.test', port: 80, srv: false })).rejects.toMatchObject({ code: 'ERR_DNS_FAILURE', dnsCode: 'ETIMEOUT' })
    } finally {
      dns.resume()
    }
  })

  it('reports a stopped server as a failure (connection refused)', async () => {
    await dns.stop()
    try {
      await expect(queryTargets(testResolver(dns.address), { dns: 'web.latch.test', port: 80, srv: false })).rejects.toMatchObject({ code: 'ERR_DNS_FAILURE', dnsCode: 'ECONNREFUSED' })
    } finally {
      await dns.restart()
    }
  })
})
