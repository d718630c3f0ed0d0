/**
 * @module Composition root: builds the runtime, the traffic servers, the upgrade tunnel and the admin listener from a config.
 */
import type { Server } from 'node:http'
import { startAdmin, type AdminListener } from './admin/admin-listener.js'
import { Readiness } from './admin/readiness.js'
import { SecretRing } from './affinity/secret-ring.js'
import type { LoadedConfig } from './config/load.js'
import type { ShutdownConfig } from './config/schema.js'
import { drain, type DrainOutcome } from './lifecycle/graceful-shutdown.js'
import { newTrafficState } from './lifecycle/traffic-state.js'
import { formatAddress, parseListenAddress, type ListenAddress } from './net/address.js'
import { AccessLog } from './observability/access-log.js'
import type { Logger } from './observability/logger.js'
import { Metrics } from './observability/metrics.js'
import type { RuntimeHolder } from './proxying/handler.js'
import { buildRuntime, closeRuntime, startDiscovery, type ProxyRuntime } from './proxying/runtime.js'
import { createUpgradeHandler, type TunnelRegistry } from './proxying/upgrade.js'
import { bind, unbind } from './server/bind.js'
import { createTrafficServer } from './server/traffic-server.js'
import { MemoryAffinityStore } from './stores/memory-store.js'

/** A running proxy. */
export interface RunningProxy {
  /** Bound traffic addresses, in config order (real ports when 0 was configured). */
  readonly addresses: readonly ListenAddress[]
  /** Bound admin address; undefined when `admin.listen` is false. */
  readonly adminAddress: ListenAddress | undefined
  readonly runtime: ProxyRuntime
  /** What `/readyz` reports; graceful shutdown and later checks (Redis) use it. */
  readonly readiness: Readiness
  /** This instance's metrics; undefined when the admin listener (which serves them) is disabled. */
  readonly metrics: Metrics | undefined
  /**
   * Graceful shutdown (see lifecycle/graceful-shutdown.ts): fail readiness, keep accepting for
   * drainDelay, stop accepting, let in-flight work finish for drainTimeout, close everything.
   * `timing` overrides the configured delays (tests, second stage of a signal).
   */
  close(timing?: Partial<ShutdownConfig>): Promise<DrainOutcome>
}

/** Starts serving `loaded`; rejects with a StartupError if a listener cannot be bound. */
export async function startProxy(loaded: LoadedConfig, logger: Logger): Promise<RunningProxy> {
  const { config } = loaded
  for (const warning of loaded.warnings) logger.warn(warning)
  const accessLog = new AccessLog(config.log.access)
  const ring = new SecretRing(config.sessionSecrets)
  const store = new MemoryAffinityStore()
  warnAboutGeneratedSecret(loaded, ring, logger)
  const readiness = new Readiness()
  // Metrics read the current pools only at scrape time, through the holder.
  const metrics = config.admin.listen === false ? undefined : new Metrics(() => holder.runtime.pools.values())
  const traffic = newTrafficState()
  const holder: RuntimeHolder = { runtime: buildRuntime(loaded, { accessLog, logger, ring, store, metrics, traffic }) }
  // Pools with discovery get their first DNS answer before any traffic is accepted.
  await startDiscovery(holder.runtime)
  const tunnels: TunnelRegistry = { sockets: new Set() }
  const onUpgrade = createUpgradeHandler(holder, logger, tunnels)
  const servers: Server[] = []
  const addresses: ListenAddress[] = []
  let admin: AdminListener | undefined
  try {
    for (const listener of config.listen) {
      const server = createTrafficServer(holder, config.server, logger, { onUpgrade })
      servers.push(server)
      addresses.push(await bind(server, parseListenAddress(listener.address) as ListenAddress, 'traffic'))
    }
    if (config.admin.listen !== false && metrics !== undefined) {
      admin = await startAdmin(config.admin.listen, { pools: () => holder.runtime.pools, readiness, metrics, token: config.admin.token, logger })
    }
  } catch (error) {
    await Promise.all(servers.map(unbind))
    await closeRuntime(holder.runtime)
    await store.close()
    throw error
  }
  metrics?.watchServers(servers.map((server, index) => ({ server, listener: formatAddress(addresses[index] as ListenAddress) })))
  readiness.setListening()
  logger.info({ listen: addresses.map(formatAddress), admin: admin === undefined ? false : formatAddress(admin.address), pools: [...holder.runtime.pools.keys()], config: loaded.file }, 'latch is serving')

  return {
    addresses,
    adminAddress: admin?.address,
    get runtime() {
      return holder.runtime
    },
    readiness,
    metrics,
    async close(timing) {
      const outcome = await drain({ servers, tunnels, traffic, readiness, logger }, { ...holder.runtime.loaded.config.shutdown, ...timing })
      const pools = [...holder.runtime.pools.values()]
      if (outcome === 'deadline') await Promise.all(pools.map((pool) => pool.destroy()))
      // The admin listener goes last, so /readyz reports "shutting down" until the very end.
      await admin?.close()
      await closeRuntime(holder.runtime)
      await store.close()
      accessLog.flush()
      logger.info({ outcome }, 'latch stopped')
      return outcome
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
