/**
 * @module Starts the real CLI with one pool over test upstreams: the set-up most integration tests share.
 */
import { startLatch, type LatchProcess } from './latch-process.js'

/** Runs latch with pool `web` over `endpoints` plus `pool` options; admin off, info log, access log off unless given. */
export function startOnePool(endpoints: readonly { readonly url: string }[], pool: Record<string, unknown>, access = 'off'): Promise<LatchProcess> {
  return startLatch({
    config: {
      listen: '127.0.0.1:0',
      admin: { listen: false },
      log: { level: 'info', access },
      pools: [{ name: 'web', endpoints: endpoints.map((endpoint) => endpoint.url), ...pool }],
    },
  })
}
