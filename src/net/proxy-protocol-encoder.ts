/**
 * @module Writes the PROXY protocol header (HAProxy's doc/proxy-protocol.txt, versions 1 and 2) that
 * Latch sends first on a connection to an upstream of a `proxyProtocol` pool.
 *
 * Beside the parser (proxy-protocol-header.ts) and hand-written like it: a header is a line of text
 * or a few fixed offsets, built once per upstream connection. When the two addresses differ in
 * family (an IPv6 client reached Latch over IPv4), the IPv4 one is sent IPv4-mapped (`::ffff:a.b.c.d`)
 * as TCP6 / AF_INET6, as HAProxy does.
 */
import { isIP } from 'node:net'
import { expandV6 } from './ip-prefix.js'
import type { ProxiedSource } from './proxy-protocol-header.js'

/** The header versions Latch can send. */
export type ProxyHeaderVersion = 'v1' | 'v2'

/** A connection as the header describes it: who connected (the client), and to where (Latch's listener). */
export interface ProxiedConnection {
  readonly source: ProxiedSource
  readonly destination: ProxiedSource
}

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
/** Version 2, command PROXY / LOCAL. */
const V2_PROXY = 0x21
const V2_LOCAL = 0x20
/** Address family and transport: AF_INET / AF_INET6 over STREAM. */
const V2_TCP4 = 0x11
const V2_TCP6 = 0x21

/**
 * The header for `connection`: TCP4 or TCP6 with both addresses and ports; without a connection, or
 * with an address that is not an IP address, v1 `UNKNOWN` or v2 `LOCAL` (the receiver keeps the real peer).
 */
export function encodeProxyHeader(version: ProxyHeaderVersion, connection: ProxiedConnection | undefined): Buffer {
  const families = connection === undefined ? [0, 0] : [isIP(connection.source.address), isIP(connection.destination.address)]
  if (connection === undefined || families[0] === 0 || families[1] === 0) {
    return version === 'v1' ? Buffer.from('PROXY UNKNOWN\r\n', 'latin1') : Buffer.concat([V2_SIGNATURE, Buffer.from([V2_LOCAL, 0x00, 0x00, 0x00])])
  }
  const v6 = families[0] === 6 || families[1] === 6
  const source = v6 ? asV6(connection.source.address) : connection.source.address
  const destination = v6 ? asV6(connection.destination.address) : connection.destination.address
  const { port: sourcePort } = connection.source
  const { port: destinationPort } = connection.destination
  if (version === 'v1') return Buffer.from(`PROXY ${v6 ? 'TCP6' : 'TCP4'} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`, 'latin1')
  const length = v6 ? 36 : 12
  const header = Buffer.alloc(16 + length)
  V2_SIGNATURE.copy(header)
  header[12] = V2_PROXY
  header[13] = v6 ? V2_TCP6 : V2_TCP4
  header.writeUInt16BE(length, 14)
  const width = v6 ? 16 : 4
  writeAddress(header, 16, source, v6)
  writeAddress(header, 16 + width, destination, v6)
  header.writeUInt16BE(sourcePort, 16 + 2 * width)
  header.writeUInt16BE(destinationPort, 18 + 2 * width)
  return header
}

/** An address in IPv6 text form: IPv4 ones IPv4-mapped, a zone index (`%eth0`) left out. */
function asV6(address: string): string {
  return isIP(address) === 4 ? `::ffff:${address}` : address.replace(/%.*$/, '')
}

function writeAddress(header: Buffer, at: number, address: string, v6: boolean): void {
  if (!v6) {
    address.split('.').forEach((part, i) => (header[at + i] = Number(part)))
    return
  }
  expandV6(address).forEach((group, i) => header.writeUInt16BE(group, at + 2 * i))
}
