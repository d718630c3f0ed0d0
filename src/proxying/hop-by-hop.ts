/**
 * @module Hop-by-hop header names: meaningful for one connection only, never forwarded.
 *
 * RFC 9110 §7.6.1 lists Connection, Proxy-Connection, Keep-Alive, TE, Transfer-Encoding and Upgrade,
 * plus any header the Connection header names. Proxy-Authorization/-Authenticate (RFC 2616 §13.5.1)
 * are for a proxy that authenticates; Latch does not, so they never travel on either.
 */

/** Lower-case names removed from requests and responses. Length-indexed for a cheap pre-check. */
export const HOP_BY_HOP = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade', 'proxy-authorization', 'proxy-authenticate'])

const LENGTHS = new Set([...HOP_BY_HOP].map((name) => name.length))

/** True when `name` (any case) is a hop-by-hop header. */
export function isHopByHop(name: string): boolean {
  return LENGTHS.has(name.length) && HOP_BY_HOP.has(name.toLowerCase())
}

/**
 * Lower-case header names listed in a Connection header value, other than `close`/`keep-alive`/
 * `upgrade`; `undefined` when there are none (the common case, no allocation).
 */
export function connectionListed(value: string | undefined): Set<string> | undefined {
  if (value === undefined || isPlainConnectionValue(value)) return undefined
  let out: Set<string> | undefined
  for (const token of value.split(',')) {
    const name = token.trim().toLowerCase()
    if (name === '' || name === 'close' || name === 'keep-alive' || name === 'upgrade') continue
    ;(out ??= new Set()).add(name)
  }
  return out
}

/** `keep-alive` or `close` alone (any case): the common values, which name no header. */
function isPlainConnectionValue(value: string): boolean {
  return (value.length === 10 || value.length === 5) && (value.toLowerCase() === 'keep-alive' || value.toLowerCase() === 'close')
}
