/**
 * @module The `discovery.resolver` address: a DNS server as `ip`, `ip:port` or `[ipv6]:port`.
 */
import { isIP } from 'node:net'

const EXPECTED = 'expected a DNS server address such as 10.96.0.10, 127.0.0.1:5353 or [fd00::10]:53'

/**
 * Returns why `text` is not a DNS server address, or undefined when it is one. The accepted forms
 * are exactly those `Resolver.setServers` takes, so a valid config never fails there at start.
 */
export function checkResolverAddress(text: string): string | undefined {
  if (isIP(text) !== 0) return undefined
  const match = /^(?:(\d{1,3}(?:\.\d{1,3}){3})|\[([^\]]+)\])(?::(\d{1,5}))?$/.exec(text)
  if (match === null) return `invalid resolver ${JSON.stringify(text)} — ${EXPECTED}`
  const [, v4, v6, port] = match
  if (v4 !== undefined && isIP(v4) !== 4) return `invalid IPv4 address in resolver ${JSON.stringify(text)} — ${EXPECTED}`
  if (v6 !== undefined && isIP(v6) !== 6) return `invalid IPv6 address in resolver ${JSON.stringify(text)} — ${EXPECTED}`
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `invalid port in resolver ${JSON.stringify(text)} — expected a port from 1 to 65535`
  return undefined
}
