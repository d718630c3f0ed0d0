/**
 * @module How long the sockets of an upgrade live, from the upgrade request to their close.
 *
 * - Until the upstream accepts, the client connection is an HTTP connection: `server.idleTimeout`.
 * - A refused upgrade (an answer other than 101, or Latch's own error) ends like a `Connection:
 *   close` response: what the client still sends is discarded, and the socket is destroyed once the
 *   answer is flushed. Without reading, a client's FIN or reset queued behind bytes it sent after the
 *   head is never seen, and the connection would stay open for good.
 * - An accepted tunnel: both sockets get `tunnelIdleTimeout` (any traffic is activity on both, each
 *   chunk being read on one and written on the other), shortened to `tunnelHalfClosedTimeout` once
 *   either side has ended its direction or is gone (a peer that went away after a half-close is only
 *   noticed on a write); a timeout resets both.
 */
import type { Socket } from 'node:net'
import type { ServerConfig } from '../config/schema.js'
import type { TunnelEnd } from './upgrade-record.js'

/** Told how an accepted tunnel ended first. */
export interface TunnelWatcher {
  tunnelEnded(end: TunnelEnd): void
}

/** The timeouts of an accepted tunnel, in ms; 0 disables one. */
export interface TunnelTimeouts {
  readonly idle: number
  /** Applied instead of `idle` once the tunnel is half-closed, when shorter. */
  readonly halfClosed: number
}

/** The tunnel timeouts a server config sets. */
export function tunnelTimeouts(server: ServerConfig): TunnelTimeouts {
  const { tunnelIdleTimeout: idle, tunnelHalfClosedTimeout: halfClosed } = server
  return { idle, halfClosed: idle === 0 ? halfClosed : halfClosed === 0 ? idle : Math.min(idle, halfClosed) }
}

/** Prepares an upgrade's client socket: an idle HTTP connection until the upstream answers. */
export function watchUpgradeSocket(socket: Socket, idleTimeout: number): void {
  socket.setTimeout(idleTimeout)
  socket.on('timeout', () => socket.destroy())
  socket.on('error', () => socket.destroy())
}

/**
 * Releases the client connection of a refused upgrade once the answer being written to it (ended by
 * the caller, now or later) has been flushed.
 */
export function releaseAfterAnswer(socket: Socket): void {
  // Flowing without a 'data' listener: what the client sends is read and dropped, so its FIN or reset is seen.
  socket.resume()
  if (socket.writableFinished) socket.destroy()
  else socket.once('finish', () => socket.destroy())
}

/** Applies the tunnel timeouts to an accepted tunnel's two sockets, and tells `watcher` which side ended it. */
export function joinTunnel(client: Socket, upstream: Socket, timeouts: TunnelTimeouts, watcher: TunnelWatcher): void {
  if (client.destroyed) {
    upstream.destroy()
    return
  }
  // A reset, not a FIN: a peer that half-closed and only reads (or waits) sees nothing else.
  const close = (): void => {
    watcher.tunnelEnded('idle-timeout')
    client.resetAndDestroy()
    upstream.resetAndDestroy()
  }
  // http-proxy clears the upstream socket's timeout in its own 'upgrade' listener, which runs after this one.
  queueMicrotask(() => {
    client.setTimeout(timeouts.idle)
    upstream.setTimeout(timeouts.idle)
  })
  client.on('timeout', close)
  upstream.on('timeout', close)
  upstream.on('error', () => upstream.destroy())
  const clientEnded = (): void => watcher.tunnelEnded('client-closed')
  const upstreamEnded = (): void => watcher.tunnelEnded('upstream-closed')
  client.once('end', clientEnded)
  client.once('close', clientEnded)
  upstream.once('end', upstreamEnded)
  upstream.once('close', upstreamEnded)
  if (timeouts.halfClosed === timeouts.idle) return
  const halfClosed = (): void => {
    if (!client.destroyed) client.setTimeout(timeouts.halfClosed)
    if (!upstream.destroyed) upstream.setTimeout(timeouts.halfClosed)
  }
  for (const socket of [client, upstream]) {
    socket.once('end', halfClosed)
    socket.once('close', halfClosed)
  }
}
