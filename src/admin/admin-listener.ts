/**
 * @module Starts and stops the admin listener for a running proxy.
 */
import { parseListenAddress, type ListenAddress } from '../net/address.js'
import { bind, unbind } from '../server/bind.js'
import type { AdminContext } from './admin-routes.js'
import { createAdminServer } from './admin-server.js'

/** A bound admin listener. */
export interface AdminListener {
  readonly address: ListenAddress
  close(): Promise<void>
}

/**
 * Binds the admin API on `listen` (`admin.listen`); rejects with a StartupError (LISTEN_FAILED) naming the
 * address and the cause when it cannot.
 */
export async function startAdmin(listen: string, context: AdminContext): Promise<AdminListener> {
  const server = createAdminServer(context)
  const address = await bind(server, parseListenAddress(listen) as ListenAddress, 'the admin API (admin.listen)')
  return {
    address,
    async close() {
      const closing = unbind(server)
      server.closeAllConnections()
      await closing
    },
  }
}
