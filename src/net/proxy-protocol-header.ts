/**
 * @module Parses the PROXY protocol header (HAProxy's doc/proxy-protocol.txt, versions 1 and 2) that
 * an L4 load balancer sends before the client's own bytes.
 *
 * Hand-written rather than from npm: the parsers there take a complete header, so framing it out of a
 * TCP stream (where it may arrive in pieces, followed at once by the client's bytes) would be ours
 * anyway, and the rest is a few fixed offsets. The parser is incremental in the simplest way: called
 * again with more bytes, it answers `incomplete` until it can decide.
 */
import { isIP } from 'node:net'

/** Which header versions a listener accepts. */
export type ProxyProtocolVersions = 'v1' | 'v2' | 'either'

/** The client's address as the balancer saw it. */
export interface ProxiedSource {
  readonly address: string
  readonly port: number
}

/** The outcome of reading the first bytes of a connection. */
export type ProxyHeaderResult =
  /** A whole header of `length` bytes; `source` undefined for LOCAL, UNKNOWN and non-IP families (keep the real peer). */
  | { readonly kind: 'header'; readonly version: 1 | 2; readonly length: number; readonly source: ProxiedSource | undefined }
  | { readonly kind: 'incomplete' }
  /** `missing`: the bytes start with no accepted signature; `malformed`: a signature, then nonsense. */
  | { readonly kind: 'invalid'; readonly reason: 'missing' | 'malformed'; readonly detail: string }

/** The longest version 1 header, CRLF included (spec 2.1). */
export const V1_MAX_LENGTH = 107
const V1_SIGNATURE = Buffer.from('PROXY ', 'latin1')
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a])
const V2_FIXED_LENGTH = 16
/** Address block sizes of the v2 families AF_INET, AF_INET6 and AF_UNIX. */
const V2_INET_LENGTH = 12
const V2_INET6_LENGTH = 36
const V2_UNIX_LENGTH = 216

const INCOMPLETE: ProxyHeaderResult = { kind: 'incomplete' }

/** Reads a PROXY header of an accepted version from the start of `data`. */
export function parseProxyHeader(data: Buffer, versions: ProxyProtocolVersions): ProxyHeaderResult {
  if (versions !== 'v2' && startsWith(data, V1_SIGNATURE)) return data.length < V1_SIGNATURE.length ? INCOMPLETE : parseV1(data)
  if (versions !== 'v1' && startsWith(data, V2_SIGNATURE)) return data.length < V2_SIGNATURE.length ? INCOMPLETE : parseV2(data)
  return invalid('missing', versions === 'either' ? 'no PROXY protocol header' : `no PROXY protocol ${versions} header`)
}

/** True when `data` and `signature` agree on their common length (so a short `data` may still become it). */
function startsWith(data: Buffer, signature: Buffer): boolean {
  const length = Math.min(data.length, signature.length)
  return data.compare(signature, 0, length, 0, length) === 0
}

/** `PROXY TCP4 src dst sport dport\r\n`, `PROXY TCP6 …\r\n` or `PROXY UNKNOWN[ anything]\r\n`. */
function parseV1(data: Buffer): ProxyHeaderResult {
  const end = data.indexOf('\r\n', V1_SIGNATURE.length, 'latin1')
  if (end === -1 || end + 2 > V1_MAX_LENGTH) {
    if (data.length >= V1_MAX_LENGTH) return invalid('malformed', `v1 header longer than ${V1_MAX_LENGTH} bytes`)
    // A bare CR or LF before the CRLF can never become a valid line.
    const stray = data.subarray(V1_SIGNATURE.length).findIndex((byte, i, rest) => byte === 0x0a || (byte === 0x0d && i + 1 < rest.length))
    return stray === -1 ? INCOMPLETE : invalid('malformed', 'v1 header with a stray CR or LF')
  }
  const length = end + 2
  const fields = data.toString('latin1', V1_SIGNATURE.length, end).split(' ')
  const family = fields[0]
  if (family === 'UNKNOWN') return { kind: 'header', version: 1, length, source: undefined }
  if (family !== 'TCP4' && family !== 'TCP6') return invalid('malformed', 'v1 protocol must be TCP4, TCP6 or UNKNOWN')
  if (fields.length !== 5) return invalid('malformed', 'v1 header must have source, destination and both ports')
  const [, source, destination, sourcePort, destinationPort] = fields as [string, string, string, string, string]
  const ipVersion = family === 'TCP4' ? 4 : 6
  if (isIP(source) !== ipVersion || isIP(destination) !== ipVersion) return invalid('malformed', `v1 ${family} addresses must be IPv${ipVersion}`)
  const port = parsePort(sourcePort)
  if (port === undefined || parsePort(destinationPort) === undefined) return invalid('malformed', 'v1 ports must be numbers from 0 to 65535 without leading zeros')
  return { kind: 'header', version: 1, length, source: { address: source, port } }
}

function parsePort(text: string): number | undefined {
  return /^(0|[1-9]\d{0,4})$/.test(text) && Number(text) <= 65535 ? Number(text) : undefined
}

/** 12-byte signature, version/command, family/transport, 16-bit length, addresses, then TLVs (skipped). */
function parseV2(data: Buffer): ProxyHeaderResult {
  if (data.length < V2_FIXED_LENGTH) return INCOMPLETE
  const versionCommand = data[12] as number
  if (versionCommand >> 4 !== 2) return invalid('malformed', 'v2 version must be 2')
  const command = versionCommand & 0x0f
  if (command > 1) return invalid('malformed', 'v2 command must be LOCAL or PROXY')
  const family = (data[13] as number) >> 4
  const transport = (data[13] as number) & 0x0f
  if (family > 3 || transport > 2) return invalid('malformed', 'v2 unknown address family or transport')
  const length = V2_FIXED_LENGTH + data.readUInt16BE(14)
  const needed = family === 1 ? V2_INET_LENGTH : family === 2 ? V2_INET6_LENGTH : family === 3 ? V2_UNIX_LENGTH : 0
  if (length - V2_FIXED_LENGTH < needed) return invalid('malformed', 'v2 length too short for its address family')
  if (data.length < length) return INCOMPLETE
  // LOCAL (health checks of the balancer itself), UNSPEC and UNIX: the real peer stays the client.
  if (command === 0 || family === 0 || family === 3 || transport === 0) return { kind: 'header', version: 2, length, source: undefined }
  if (transport !== 1) return invalid('malformed', 'v2 datagram transport on a stream listener')
  const at = V2_FIXED_LENGTH
  if (family === 1) return { kind: 'header', version: 2, length, source: { address: `${data[at]}.${data[at + 1]}.${data[at + 2]}.${data[at + 3]}`, port: data.readUInt16BE(at + 8) } }
  return { kind: 'header', version: 2, length, source: { address: ipv6Text(data, at), port: data.readUInt16BE(at + 32) } }
}

/** The 16 bytes at `at` as an IPv6 address in its shortest text form (RFC 5952: longest zero run as `::`). */
function ipv6Text(data: Buffer, at: number): string {
  const groups: number[] = []
  for (let i = 0; i < 8; i++) groups.push(data.readUInt16BE(at + i * 2))
  // IPv4-mapped (::ffff:a.b.c.d): the client is an IPv4 client, as Node reports it on dual-stack sockets.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) return `::ffff:${data[at + 12]}.${data[at + 13]}.${data[at + 14]}.${data[at + 15]}`
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) { bestStart = i; bestLength = j - i }
    i = j
  }
  const hex = groups.map((group) => group.toString(16))
  if (bestStart === -1) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`
}

function invalid(reason: 'missing' | 'malformed', detail: string): ProxyHeaderResult {
  return { kind: 'invalid', reason, detail }
}
