/**
 * @module Composition root: builds the runtime, the traffic servers and the upgrade tunnel from a config.
 */
import type { Server } from 'node:http'
import { SecretRing } from './affinity/secret-ring.js'
import type { LoadedConfig } from './config/load.js'
import { formatAddress, parseListenAddress, type ListenAddress } from './net/address.js'
import { AccessLog } from './observability/access-log.js'
import type { Logger } from './observability/logger.js'
import type { RuntimeHolder } from './proxying/handler.js'
import { buildRuntime, closeRuntime, type ProxyRuntime } from './proxying/runtime.js'
import { createUpgradeHandler, type TunnelRegistry } from './proxying/upgrade.js'
import { bind, unbind } from './server/bind.js'
import { createTrafficServer } from './server/traffic-server.js'
import { MemoryAffinityStore } from './stores/memory-store.js'

/** A running proxy. */
export interface RunningProxy {
  /** Bound traffic addresses, in config order (real ports when 0 was configured). */
  readonly addresses: readonly ListenAddress[]
  readonly runtime: ProxyRuntime
  /** Stops accepting, lets in-flight requests finish for up to `graceMs`, then closes everything. */
  close(graceMs?: number): Promise<void>
}

/** Starts serving `loaded`; rejects with a StartupError if a listener cannot be bound. */
export async function startProxy(loaded: LoadedConfig, logger: Logger): Promise<RunningProxy> {
  const { config } = loaded
  for (const warning of loaded.warnings) logger.warn(warning)
  const accessLog = new AccessLog(config.log.access)
  const ring = new SecretRing(config.sessionSecrets)
  const store = new MemoryAffinityStore()
  warnAboutGeneratedSecret(loaded, ring, logger)
  const holder: RuntimeHolder = { runtime: buildRuntime(loaded, { accessLog, logger, ring, store }) }
  const tunnels: TunnelRegistry = { sockets: new Set() }
  const onUpgrade = createUpgradeHandler(holder, logger, tunnels)
  const servers: Server[] = []
  const addresses: ListenAddress[] = []
  try {
    for (const listener of config.listen) {
      const server = createTrafficServer(holder, config.server, logger, { onUpgrade })
      servers.push(server)
      addresses.push(await bind(server, parseListenAddress(listener.address) as ListenAddress, 'traffic'))
    }
  } catch (error) {
    await Promise.all(servers.map(unbind))
    await closeRuntime(holder.runtime)
    await store.close()
    throw error
  }
  logger.info({ listen: addresses.map(formatAddress), pools: [...holder.runtime.pools.keys()], config: loaded.file }, 'latch is serving')

  return {
    addresses,
    get runtime() {
      return holder.runtime
    },
    async close(graceMs = 5000) {
      const closing = Promise.all(servers.map(unbind))
      for (const server of servers) server.closeIdleConnections()
      const deadline = setTimeout(() => {
        for (const server of servers) server.closeAllConnections()
        for (const socket of tunnels.sockets) socket.destroy()
      }, graceMs)
      for (const socket of tunnels.sockets) socket.end()
      await closing
      clearTimeout(deadline)
      await closeRuntime(holder.runtime)
      await store.close()
      accessLog.flush()
    },
  }
}

/** Signed-token modes with a generated secret work, but replicas will not recognise each other's tokens. */
function warnAboutGeneratedSecret(loaded: LoadedConfig, ring: SecretRing, logger: Logger): void {
  if (!ring.generated) return
  const pools = loaded.config.pools.filter((pool) => pool.affinity.mode === 'cookie' || pool.affinity.mode === 'header').map((pool) => pool.name)
  if (pools.length > 0) {
    logger.warn({ pools }, 'no sessionSecrets configured: generated a random secret; sessions will not be shared by other Latch replicas and will reset on restart')
  }
}
