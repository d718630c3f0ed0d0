/**
 * @module Binds servers to listen addresses, failing with a message that names the address and cause.
 */
import type { Server } from 'node:net'
import { StartupError } from '../errors/startup-error.js'
import { formatAddress, type ListenAddress } from '../net/address.js'

const CAUSES: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the address is already in use by another process',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'no network interface has this address',
}

/** Listens on `address`; resolves with the bound address (the real port when 0 was asked for). */
export function bind(server: Server, address: ListenAddress, what: string): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const cause = CAUSES[error.code ?? ''] ?? error.message
      reject(new StartupError('LISTEN_FAILED', `cannot listen for ${what} on ${formatAddress(address)}: ${cause} (${error.code ?? 'error'})`, { cause: error }))
    }
    server.once('error', onError)
    server.listen({ host: address.host, port: address.port, backlog: 511 }, () => {
      server.off('error', onError)
      const bound = server.address()
      resolve(typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : address)
    })
  })
}

/** Closes a server, resolving when it stopped listening (already-closed servers resolve at once). */
export function unbind(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve()
    server.close(() => resolve())
  })
}
