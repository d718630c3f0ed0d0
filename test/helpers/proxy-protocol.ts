/**
 * @module PROXY protocol headers as load balancers send them, for tests.
 */
import { isIP } from 'node:net'

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])

/** A version 1 header line: TCP4/TCP6 by the source's family, or UNKNOWN without a source. */
export function proxyV1(source?: string, sourcePort = 40000, destination?: string, destinationPort = 443): Buffer {
  if (source === undefined) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1')
  const family = isIP(source) === 6 ? 'TCP6' : 'TCP4'
  return Buffer.from(`PROXY ${family} ${source} ${destination ?? (family === 'TCP6' ? '::1' : '127.0.0.1')} ${sourcePort} ${destinationPort}\r\n`, 'latin1')
}

/** A version 2 header: PROXY over TCP (family by the source) or LOCAL, with optional raw TLV bytes. */
export function proxyV2(options: { command?: 'PROXY' | 'LOCAL'; source?: string; sourcePort?: number; tlvs?: Buffer }): Buffer {
  const command = options.command === 'LOCAL' ? 0x20 : 0x21
  const tlvs = options.tlvs ?? Buffer.alloc(0)
  if (options.source === undefined) return Buffer.concat([V2_SIGNATURE, Buffer.from([command, 0x00]), u16(tlvs.length), tlvs])
  const v6 = isIP(options.source) === 6
  const addresses = v6 ? Buffer.concat([ipv6Bytes(options.source), ipv6Bytes('::1')]) : Buffer.from([...options.source.split('.').map(Number), 127, 0, 0, 1])
  const block = Buffer.concat([addresses, u16(options.sourcePort ?? 40000), u16(443), tlvs])
  return Buffer.concat([V2_SIGNATURE, Buffer.from([command, v6 ? 0x21 : 0x11]), u16(block.length), block])
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2)
  buffer.writeUInt16BE(value)
  return buffer
}

/** The 16 bytes of an IPv6 address (`::` and an embedded IPv4 tail expanded). */
function ipv6Bytes(address: string): Buffer {
  const numbers = (text: string): number[] =>
    text === '' ? [] : text.split(':').flatMap((group) => {
      if (!group.includes('.')) return [parseInt(group, 16)]
      const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number)
      return [(a << 8) | b, (c << 8) | d]
    })
  const [head = '', tail] = address.split('::')
  const headNumbers = numbers(head)
  const tailNumbers = tail === undefined ? [] : numbers(tail)
  const zeros = tail === undefined ? 0 : 8 - headNumbers.length - tailNumbers.length
  return Buffer.concat([...headNumbers, ...Array<number>(zeros).fill(0), ...tailNumbers].map(u16))
}
