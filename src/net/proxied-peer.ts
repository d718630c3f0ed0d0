/**
 * @module The client address a connection stands for: the one its PROXY protocol header carried, else its TCP peer.
 *
 * Kept as a symbol property on the raw TCP socket, because every way a request reaches its socket
 * leads there: `req.socket` is that socket (HTTP/1.1), a TLSSocket whose `_parent` it is (TLS), or
 * node:http2's proxy that forwards property reads to the session's socket (HTTP/2).
 */
import type { Socket } from 'node:net'
import type { ProxiedConnection } from './proxy-protocol-encoder.js'
import type { ProxiedSource } from './proxy-protocol-header.js'

const PROXIED = Symbol('latch.proxiedPeer')

interface Carrier {
  [PROXIED]?: ProxiedSource
  /** Set by node:tls on a TLSSocket made from an accepted TCP socket. */
  readonly _parent?: Carrier | null
  readonly remoteAddress?: string | undefined
  readonly remotePort?: number | undefined
}

/** Strips the IPv4-mapped prefix Node reports on dual-stack sockets (`::ffff:10.0.0.1`). */
export function plainAddress(address: string | undefined): string {
  if (address === undefined) return ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

/** Records the client a PROXY protocol header gave for the connection of `socket`. */
export function setProxiedPeer(socket: Socket, source: ProxiedSource): void {
  ;(socket as Carrier)[PROXIED] = source
}

/** The connection's client address as reported (PROXY protocol first), IPv4-mapped prefix not yet stripped. */
export function peerAddressOf(socket: Socket): string | undefined {
  const carrier = socket as Carrier
  return (carrier[PROXIED] ?? carrier._parent?.[PROXIED])?.address ?? carrier.remoteAddress
}

/**
 * The connection a request with client address `clientIp` came in on, as Latch's own PROXY header
 * towards an upstream describes it: the client (with its port when it is the connection's peer, 0
 * when trusted proxies named it) and the address it reached Latch at.
 */
export function clientConnection(clientIp: string, socket: Socket): ProxiedConnection {
  const carrier = socket as Carrier
  const proxied = carrier[PROXIED] ?? carrier._parent?.[PROXIED]
  const peer = proxied ?? { address: plainAddress(carrier.remoteAddress), port: carrier.remotePort ?? 0 }
  const port = plainAddress(peer.address) === clientIp ? peer.port : 0
  return { source: { address: clientIp, port }, destination: { address: plainAddress(socket.localAddress), port: socket.localPort ?? 0 } }
}
