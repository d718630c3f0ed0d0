/**
 * @module Listen addresses and CIDR ranges as written in config files and on the command line.
 */
import { BlockList, isIP } from 'node:net'

/** A parsed `host:port` listen address. */
export interface ListenAddress {
  readonly host: string
  readonly port: number
}

/**
 * Parses "0.0.0.0:8080", "127.0.0.1:0", "[::1]:8080", ":8080" or "8080" (all interfaces).
 * Returns an error message instead of throwing, so the config loader can collect every problem.
 */
export function parseListenAddress(text: string): ListenAddress | string {
  const value = text.trim()
  let host = '0.0.0.0'
  let portText = value
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(value)
  if (bracket !== null) {
    host = bracket[1] as string
    portText = bracket[2] as string
    if (isIP(host) !== 6) return `invalid IPv6 address "${host}"`
  } else if (value.includes(':')) {
    const colon = value.lastIndexOf(':')
    if (value.indexOf(':') !== colon) return `invalid address "${value}" — write IPv6 addresses in brackets, e.g. [::]:8080`
    host = value.slice(0, colon) === '' ? '0.0.0.0' : value.slice(0, colon)
    portText = value.slice(colon + 1)
  }
  if (!/^\d{1,5}$/.test(portText)) return `invalid port "${portText}" — expected a number from 0 to 65535`
  const port = Number(portText)
  if (port > 65535) return `port ${port} is out of range — expected a number from 0 to 65535`
  if (host === '' || /\s/.test(host)) return `invalid host "${host}"`
  return { host, port }
}

/** Formats an address for logs and messages, bracketing IPv6. */
export function formatAddress(address: ListenAddress): string {
  return isIP(address.host) === 6 ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`
}

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4') // also matches IPv4-mapped ::ffff:127.x.y.z
LOOPBACK.addAddress('::1', 'ipv6')

/**
 * True when `host` is a loopback address: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z. Never for a name,
 * not even `localhost` or `127.example.com`: a name can resolve to anything (the admin listener's safe default).
 */
export function isLoopbackHost(host: string): boolean {
  const family = isIP(host)
  return family !== 0 && LOOPBACK.check(host, family === 6 ? 'ipv6' : 'ipv4')
}

/** Validates "10.0.0.0/8", "fd00::/8" or a single address; returns an error message or undefined. */
export function checkCidr(text: string): string | undefined {
  const slash = text.indexOf('/')
  const address = slash === -1 ? text : text.slice(0, slash)
  const family = isIP(address)
  if (family === 0) return `invalid CIDR "${text}" — expected an IPv4 or IPv6 address with an optional /prefix, e.g. 10.0.0.0/8`
  if (slash === -1) return undefined
  const prefixText = text.slice(slash + 1)
  const max = family === 4 ? 32 : 128
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return `invalid CIDR "${text}" — the prefix length must be a number from 0 to ${max}`
  }
  return undefined
}

/** Builds a BlockList (native, fast) from validated CIDR strings. */
export function buildCidrList(cidrs: readonly string[]): BlockList {
  const list = new BlockList()
  for (const cidr of cidrs) {
    const slash = cidr.indexOf('/')
    const address = slash === -1 ? cidr : cidr.slice(0, slash)
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4'
    const prefix = slash === -1 ? (family === 'ipv6' ? 128 : 32) : Number(cidr.slice(slash + 1))
    list.addSubnet(address, prefix, family)
  }
  return list
}

/**
 * True for a syntactically valid Host header value, `uri-host [ ":" port ]` (RFC 9110 §7.2, RFC 3986
 * §3.2.2): a reg-name or IPv4 address, or an IPv6 literal in brackets, then optional port digits.
 */
export function isValidHostHeader(value: string): boolean {
  let i = 0
  if (value.charCodeAt(0) === 91 /* [ */) {
    const close = value.indexOf(']')
    if (close < 2 || isIP(value.slice(1, close)) !== 6) return false
    i = close + 1
  } else {
    while (i < value.length && isRegNameChar(value.charCodeAt(i))) i++
    if (i === 0) return false
  }
  if (i === value.length) return true
  if (value.charCodeAt(i) !== 58 /* : */ || value.length - i > 6) return false
  for (i++; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 48 || code > 57) return false
  }
  return true
}

/** unreserved, sub-delims and "%" (RFC 3986 reg-name). */
function isRegNameChar(code: number): boolean {
  if ((code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57)) return true
  return code === 45 || code === 46 || code === 95 || code === 126 || code === 37 || code === 33 || code === 36 || (code >= 38 && code <= 44) || code === 59 || code === 61
}
