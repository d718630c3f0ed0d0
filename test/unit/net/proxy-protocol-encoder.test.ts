import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { encodeProxyHeader, type ProxiedConnection } from '../../../src/net/proxy-protocol-encoder.js'
import { parseProxyHeader } from '../../../src/net/proxy-protocol-header.js'

const connection = (source: string, sourcePort: number, destination: string, destinationPort: number): ProxiedConnection => ({ source: { address: source, port: sourcePort }, destination: { address: destination, port: destinationPort } })

describe('encodeProxyHeader', () => {
  it('writes the specification\'s v1 lines (section 2.1)', () => {
    expect(encodeProxyHeader('v1', connection('192.168.0.1', 56324, '192.168.0.11', 443)).toString('latin1')).toBe('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n')
    expect(encodeProxyHeader('v1', connection('2001:db8::1', 1, '2001:db8::2', 80)).toString('latin1')).toBe('PROXY TCP6 2001:db8::1 2001:db8::2 1 80\r\n')
    expect(encodeProxyHeader('v1', undefined).toString('latin1')).toBe('PROXY UNKNOWN\r\n')
    expect(encodeProxyHeader('v1', connection('', 0, '127.0.0.1', 80)).toString('latin1')).toBe('PROXY UNKNOWN\r\n')
  })

  it('writes v2 with the fixed layout: signature, 0x21, family, length, addresses, ports', () => {
    const header = encodeProxyHeader('v2', connection('10.1.2.3', 0x1234, '10.0.0.1', 443))
    expect(header.subarray(0, 12).toString('hex')).toBe('0d0a0d0a000d0a515549540a')
    expect([...header.subarray(12)]).toEqual([0x21, 0x11, 0, 12, 10, 1, 2, 3, 10, 0, 0, 1, 0x12, 0x34, 0x01, 0xbb])
    const six = encodeProxyHeader('v2', connection('2001:db8::7', 1, '::1', 2))
    expect(six.length).toBe(16 + 36)
    expect(six.subarray(16, 32).toString('hex')).toBe('20010db8000000000000000000000007')
    // LOCAL, no address block: the receiver keeps the real peer.
    expect([...encodeProxyHeader('v2', undefined).subarray(12)]).toEqual([0x20, 0x00, 0, 0])
  })

  it('sends an IPv4 address IPv4-mapped when the other one is IPv6', () => {
    expect(encodeProxyHeader('v1', connection('2001:db8::7', 5, '127.0.0.1', 80)).toString('latin1')).toBe('PROXY TCP6 2001:db8::7 ::ffff:127.0.0.1 5 80\r\n')
    const parsed = parseProxyHeader(encodeProxyHeader('v2', connection('127.0.0.2', 5, '::1', 80)), 'v2')
    expect(parsed).toMatchObject({ kind: 'header', source: { address: '::ffff:127.0.0.2', port: 5 } })
  })

  it('round-trips any IPv4 or IPv6 connection through the project\'s parser, in both versions', () => {
    const address = fc.oneof(fc.ipV4(), fc.ipV6())
    const port = fc.integer({ min: 0, max: 65535 })
    fc.assert(
      fc.property(fc.constantFrom('v1' as const, 'v2' as const), address, port, address, port, (version, source, sourcePort, destination, destinationPort) => {
        const header = encodeProxyHeader(version, connection(source, sourcePort, destination, destinationPort))
        const parsed = parseProxyHeader(Buffer.concat([header, Buffer.from('GET / HTTP/1.1\r\n')]), version)
        expect(parsed.kind).toBe('header')
        if (parsed.kind !== 'header') return
        expect(parsed.length).toBe(header.length)
        expect(parsed.source?.port).toBe(sourcePort)
        expect(sameAddress(parsed.source?.address ?? '', source)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })
})

/** Whether two address texts name the same address (IPv6 written in different but equal forms; IPv4-mapped). */
function sameAddress(parsed: string, sent: string): boolean {
  const canonical = (text: string): string => new URL(`http://[${text.includes(':') ? text : `::ffff:${text}`}]/`).hostname
  return canonical(parsed) === canonical(sent)
}
