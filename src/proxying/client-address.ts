/**
 * @module Who the client is: the socket peer, or, behind trusted proxies, the address they report.
 *
 * Forwarded addresses are believed only from peers in `trustedProxies` and are read right to left:
 * the right-most address that is not itself a trusted proxy is the client. The left-most entry of
 * `X-Forwarded-For` is whatever the client wrote, so trusting it would let anyone pick their own
 * identity (and, with IP affinity, their own backend).
 */
import { isIP } from 'node:net'
import type { Socket } from 'node:net'
import { peerAddressOf, plainAddress } from '../net/proxied-peer.js'

export { plainAddress }
import type { TrustedNetworks } from '../net/trusted-networks.js'

/**
 * The connection's peer as a plain address: the client a trusted PROXY protocol header named, else the
 * TCP peer. Everything that asks who the client is (affinity, X-Forwarded-For, Forwarded, logs) starts here.
 */
export function peerAddress(socket: Socket): string {
  return plainAddress(peerAddressOf(socket))
}

/** True when `address` is inside the trusted CIDR list. */
export function isTrusted(trusted: TrustedNetworks | undefined, address: string): boolean {
  return trusted !== undefined && address !== '' && trusted.contains(address)
}

/**
 * Resolves the client address from a trusted peer's `X-Forwarded-For` (or RFC 7239 `Forwarded`)
 * chain, right to left. Returns `peer` itself when nothing trustworthy says otherwise.
 */
export function resolveClientAddress(peer: string, trusted: TrustedNetworks | undefined, xForwardedFor: string | undefined, forwarded: string | undefined): string {
  if (!isTrusted(trusted, peer)) return peer
  const chain = xForwardedFor !== undefined ? splitList(xForwardedFor) : forwarded !== undefined ? forwardedFor(forwarded) : []
  let client = peer
  for (let i = chain.length - 1; i >= 0; i--) {
    const address = stripPort(chain[i] as string)
    if (isIP(address) === 0) break
    client = address
    if (!isTrusted(trusted, address)) break
  }
  return client
}

/**
 * The scheme of the client's own connection, from a trusted peer's RFC 7239 `Forwarded` chain, read
 * right to left like the address: each proxy appends an element describing the request it received,
 * so the element whose `for=` is not a trusted proxy was added by the outermost trusted one, and its
 * `proto=` is what the client used. Lower-case; undefined when that element names none.
 */
export function forwardedProto(trusted: TrustedNetworks | undefined, forwarded: string): string | undefined {
  const elements = forwardedElements(forwarded)
  for (let i = elements.length - 1; i >= 0; i--) {
    const element = elements[i] as ForwardedElement
    const node = element.fors.at(-1)
    const address = node === undefined ? '' : stripPort(node)
    if (isIP(address) === 0 || !isTrusted(trusted, address)) return element.proto
  }
  return elements[0]?.proto
}

function splitList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '')
}

/** One element of an RFC 7239 `Forwarded` header: its `for=` nodes (normally one) and its `proto=`. */
interface ForwardedElement {
  readonly fors: string[]
  /** Lower-case. */
  readonly proto: string | undefined
}

function forwardedElements(value: string): ForwardedElement[] {
  return value.split(',').map((element) => {
    const fors: string[] = []
    let proto: string | undefined
    for (const pair of element.split(';')) {
      const eq = pair.indexOf('=')
      if (eq === -1) continue
      const key = pair.slice(0, eq).trim().toLowerCase()
      const item = pair.slice(eq + 1).trim().replace(/^"|"$/g, '')
      if (key === 'for') fors.push(item)
      else if (key === 'proto') proto = item.toLowerCase()
    }
    return { fors, proto }
  })
}

/** The `for=` values of an RFC 7239 `Forwarded` header, in order. */
export function forwardedFor(value: string): string[] {
  return forwardedElements(value).flatMap((element) => element.fors)
}

/** `1.2.3.4:5678` → `1.2.3.4`; `[2001:db8::1]:80` → `2001:db8::1`; bare addresses unchanged. */
function stripPort(value: string): string {
  if (value.startsWith('[')) {
    const close = value.indexOf(']')
    return close === -1 ? value : value.slice(1, close)
  }
  const colon = value.indexOf(':')
  return colon !== -1 && value.indexOf(':', colon + 1) === -1 ? value.slice(0, colon) : value
}

/** Formats a node for RFC 7239: IPv6 in quotes and brackets. */
export function forwardedNode(address: string): string {
  return isIP(address) === 6 ? `"[${address}]"` : address
}
