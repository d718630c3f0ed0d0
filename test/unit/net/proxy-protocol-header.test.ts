import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseProxyHeader, V1_MAX_LENGTH } from '../../../src/net/proxy-protocol-header.js'
import { proxyV2 } from '../../helpers/proxy-protocol.js'

const v1 = (text: string): Buffer => Buffer.from(text, 'latin1')
const FFFF6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'

describe('parseProxyHeader, version 1 (spec 2.1)', () => {
  it('reads TCP4 and TCP6 lines, including the longest ones the spec gives', () => {
    expect(parseProxyHeader(v1('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET /'), 'v1')).toEqual({ kind: 'header', version: 1, length: 47, source: { address: '192.168.0.1', port: 56324 } })
    const tcp4 = 'PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n'
    expect(parseProxyHeader(v1(tcp4), 'either')).toMatchObject({ kind: 'header', length: 56, source: { address: '255.255.255.255', port: 65535 } })
    const tcp6 = `PROXY TCP6 ${FFFF6} ${FFFF6} 65535 65535\r\n`
    expect(tcp6.length).toBe(104)
    expect(parseProxyHeader(v1(tcp6), 'v1')).toMatchObject({ kind: 'header', length: 104, source: { address: FFFF6 } })
    expect(parseProxyHeader(v1('PROXY TCP6 2001:db8::1 ::1 1 0\r\n'), 'v1')).toMatchObject({ source: { address: '2001:db8::1', port: 1 } })
  })

  it('reads UNKNOWN with or without addresses (the real peer stays the client), up to the 107-byte worst case', () => {
    expect(parseProxyHeader(v1('PROXY UNKNOWN\r\n'), 'v1')).toEqual({ kind: 'header', version: 1, length: 15, source: undefined })
    const longest = `PROXY UNKNOWN ${FFFF6} ${FFFF6} 65535 65535\r\n`
    expect(longest.length).toBe(V1_MAX_LENGTH)
    expect(parseProxyHeader(v1(longest), 'v1')).toMatchObject({ kind: 'header', length: 107, source: undefined })
  })

  it('answers incomplete for every proper prefix of a header', () => {
    const line = 'PROXY TCP4 10.1.2.3 10.0.0.1 40000 8080\r\n'
    for (let i = 0; i < line.length; i++) expect(parseProxyHeader(v1(line.slice(0, i)), 'v1'), line.slice(0, i)).toEqual({ kind: 'incomplete' })
  })

  it('refuses lines the spec does not allow', () => {
    const malformed = [
      'PROXY TCP4 10.1.2.3 10.0.0.1 40000\r\n', // a field missing
      'PROXY TCP4  10.1.2.3 10.0.0.1 40000 80\r\n', // two spaces
      'PROXY TCP4 10.1.2.3 10.0.0.1 40000 80 \r\n', // trailing space
      'PROXY TCP4 ::1 ::1 40000 80\r\n', // family mismatch
      'PROXY TCP6 10.1.2.3 10.0.0.1 40000 80\r\n',
      'PROXY TCP4 10.1.2.300 10.0.0.1 40000 80\r\n',
      'PROXY TCP4 10.1.2.3 10.0.0.1 65536 80\r\n',
      'PROXY TCP4 10.1.2.3 10.0.0.1 040 80\r\n', // leading zero
      'PROXY TCP4 10.1.2.3 10.0.0.1 -1 80\r\n',
      'PROXY UDP4 10.1.2.3 10.0.0.1 1 80\r\n',
      'PROXY TCP4 10.1.2.3\n10.0.0.1 1 80\r\n', // bare LF
      `PROXY UNKNOWN ${'x'.repeat(100)}\r\n`, // over 107 bytes
    ]
    for (const line of malformed) expect(parseProxyHeader(v1(line), 'v1'), line).toMatchObject({ kind: 'invalid', reason: 'malformed' })
    expect(parseProxyHeader(v1(`PROXY UNKNOWN ${'x'.repeat(200)}`), 'v1')).toMatchObject({ kind: 'invalid', reason: 'malformed' })
  })

  it('calls plain HTTP, or the other version on a single-version listener, missing', () => {
    expect(parseProxyHeader(v1('GET / HTTP/1.1\r\n'), 'either')).toMatchObject({ kind: 'invalid', reason: 'missing' })
    expect(parseProxyHeader(v1('PROXY TCP4 10.1.2.3 10.0.0.1 1 80\r\n'), 'v2')).toMatchObject({ kind: 'invalid', reason: 'missing' })
    expect(parseProxyHeader(proxyV2({ source: '10.1.2.3' }), 'v1')).toMatchObject({ kind: 'invalid', reason: 'missing' })
  })
})

describe('parseProxyHeader, version 2 (spec 2.2)', () => {
  it('reads PROXY over TCP4 and TCP6, skipping TLVs', () => {
    const tcp4 = proxyV2({ source: '10.1.2.3', sourcePort: 40000, tlvs: Buffer.from([0x04, 0x00, 0x03, 0x61, 0x62, 0x63]) })
    expect(parseProxyHeader(Buffer.concat([tcp4, v1('GET /')]), 'v2')).toEqual({ kind: 'header', version: 2, length: 16 + 12 + 6, source: { address: '10.1.2.3', port: 40000 } })
    expect(parseProxyHeader(proxyV2({ source: '2001:db8::7', sourcePort: 1 }), 'either')).toMatchObject({ length: 16 + 36, source: { address: '2001:db8::7', port: 1 } })
    expect(parseProxyHeader(proxyV2({ source: '::ffff:10.9.8.7' }), 'v2')).toMatchObject({ source: { address: '::ffff:10.9.8.7' } })
    expect(parseProxyHeader(proxyV2({ source: '1:0:0:2:0:0:0:3' }), 'v2')).toMatchObject({ source: { address: '1:0:0:2::3' } })
  })

  it('keeps the real peer for LOCAL, UNSPEC and UNIX', () => {
    expect(parseProxyHeader(proxyV2({ command: 'LOCAL' }), 'v2')).toEqual({ kind: 'header', version: 2, length: 16, source: undefined })
    expect(parseProxyHeader(proxyV2({ command: 'LOCAL', source: '10.1.2.3' }), 'v2')).toMatchObject({ length: 28, source: undefined })
    const unix = Buffer.concat([proxyV2({ command: 'LOCAL' }).subarray(0, 13), Buffer.from([0x31, 0x00, 216]), Buffer.alloc(216)])
    unix[12] = 0x21
    expect(parseProxyHeader(unix, 'v2')).toMatchObject({ kind: 'header', length: 16 + 216, source: undefined })
  })

  it('answers incomplete for every proper prefix', () => {
    const header = proxyV2({ source: '2001:db8::7', tlvs: Buffer.alloc(20) })
    for (let i = 0; i < header.length; i++) expect(parseProxyHeader(header.subarray(0, i), 'v2'), String(i)).toEqual({ kind: 'incomplete' })
  })

  it('refuses a wrong version, command, family, transport or a length too short for its addresses', () => {
    const base = proxyV2({ source: '10.1.2.3' })
    const variant = (at: number, value: number): Buffer => {
      const copy = Buffer.from(base)
      copy[at] = value
      return copy
    }
    for (const broken of [variant(12, 0x11), variant(12, 0x22), variant(13, 0x41), variant(13, 0x13), variant(13, 0x12), variant(15, 11)]) {
      expect(parseProxyHeader(broken, 'v2'), broken.toString('hex')).toMatchObject({ kind: 'invalid', reason: 'malformed' })
    }
  })
})

describe('parseProxyHeader on random input', () => {
  it('never throws, and a header it reports lies within the bytes given', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), fc.constantFrom('v1' as const, 'v2' as const, 'either' as const), (bytes, versions) => {
      const result = parseProxyHeader(Buffer.from(bytes), versions)
      if (result.kind === 'header') expect(result.length).toBeLessThanOrEqual(bytes.length)
    }), { numRuns: 5000 })
  })

  it('reads any valid header followed by any bytes, whole, and waits on any prefix of it', () => {
    const ipv4 = fc.ipV4()
    const ipv6 = fc.ipV6()
    const header = fc.oneof(
      fc.tuple(ipv4, fc.nat(65535)).map(([address, port]) => ({ bytes: v1(`PROXY TCP4 ${address} 10.0.0.1 ${port} 443\r\n`), port })),
      fc.tuple(ipv4, fc.nat(65535), fc.uint8Array({ maxLength: 64 })).map(([address, port, tlvs]) => ({ bytes: proxyV2({ source: address, sourcePort: port, tlvs: Buffer.from(tlvs) }), port })),
      fc.tuple(ipv6, fc.nat(65535)).map(([address, port]) => ({ bytes: proxyV2({ source: address, sourcePort: port }), port })),
    )
    fc.assert(fc.property(header, fc.uint8Array({ maxLength: 64 }), fc.nat(), ({ bytes, port }, rest, cut) => {
      const whole = parseProxyHeader(Buffer.concat([bytes, rest]), 'either')
      expect(whole).toMatchObject({ kind: 'header', length: bytes.length, source: { port } })
      expect(parseProxyHeader(bytes.subarray(0, cut % bytes.length), 'either')).toEqual({ kind: 'incomplete' })
    }), { numRuns: 2000 })
  })
})
