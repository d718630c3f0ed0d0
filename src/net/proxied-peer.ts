/**
 * @module The client address a connection stands for: the one its PROXY protocol header carried, else its TCP peer.
 *
 * Kept as a symbol property on the raw TCP socket, because every way a request reaches its socket
 * leads there: `req.socket` is that socket (HTTP/1.1), a TLSSocket whose `_parent` it is (TLS), or
 * node:http2's proxy that forwards property reads to the session's socket (HTTP/2).
 */
import type { Socket } from 'node:net'

const PROXIED = Symbol('latch.proxiedPeer')

interface Carrier {
  [PROXIED]?: string
  /** Set by node:tls on a TLSSocket made from an accepted TCP socket. */
  readonly _parent?: Carrier | null
  readonly remoteAddress?: string | undefined
}

/** Records the address a PROXY protocol header gave for the connection of `socket`. */
export function setProxiedPeer(socket: Socket, address: string): void {
  ;(socket as Carrier)[PROXIED] = address
}

/** The connection's client address as reported (PROXY protocol first), IPv4-mapped prefix not yet stripped. */
export function peerAddressOf(socket: Socket): string | undefined {
  const carrier = socket as Carrier
  return carrier[PROXIED] ?? carrier._parent?.[PROXIED] ?? carrier.remoteAddress
}
