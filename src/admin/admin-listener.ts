/**
 * @module Starts and stops the admin listener for a running proxy.
 */
import { isIP } from 'node:net'
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
  const wanted = parseListenAddress(listen) as ListenAddress
  // A listener bound by name (admin.listen: "latch-admin:9901") answers to that name as well.
  const allowedHosts = isIP(wanted.host) === 0 ? [...(context.allowedHosts ?? []), wanted.host] : context.allowedHosts
  const server = createAdminServer({ ...context, allowedHosts })
  const address = await bind(server, wanted, 'the admin API (admin.listen)')
  return {
    address,
    async close() {
      const closing = unbind(server)
      server.closeAllConnections()
      await closing
    },
  }
}
