/**
 * @module Starts and stops the admin listener for a running proxy.
 */
import { isIP } from 'node:net'
import { parseListenAddress, type ListenAddress } from '../net/address.js'
import { bind, unbind } from '../server/bind.js'
import type { AdminContext } from './admin-routes.js'
import { createAdminServer } from './admin-server.js'
import { HistorySampler } from '../observability/pool-history.js'

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
  // The dashboard's history is sampled only while the admin listener runs (an unref'd timer).
  const sampler = context.counters === undefined ? undefined : new HistorySampler(context.counters)
  const history = sampler === undefined ? context.history : () => sampler.history.view()
  const server = createAdminServer({ ...context, allowedHosts, history })
  const address = await bind(server, wanted, 'the admin API (admin.listen)')
  sampler?.start()
  return {
    address,
    async close() {
      sampler?.stop()
      const closing = unbind(server)
      server.closeAllConnections()
      await closing
    },
  }
}
