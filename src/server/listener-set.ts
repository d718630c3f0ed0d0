/**
 * @module The traffic listeners of a process: bound at start, added/removed/retuned on reload.
 */
import type { IncomingMessage, Server } from 'node:http'
import { Server as NetServer, type Socket } from 'node:net'
import type { Config, ServerConfig } from '../config/schema.js'
import { formatAddress, parseListenAddress, type ListenAddress } from '../net/address.js'
import type { Logger } from '../observability/logger.js'
import type { RuntimeHolder } from '../proxying/handler.js'
import { bind, unbind } from './bind.js'
import { applyServerLimits, createTrafficServer } from './traffic-server.js'

interface Listener {
  /** The address as configured (the key; e.g. `0.0.0.0:8080` or `127.0.0.1:0`). */
  readonly configured: string
  readonly server: Server
  readonly bound: ListenAddress
}

/** Every traffic listener, keyed by its configured address. */
export class ListenerSet {
  readonly #holder: RuntimeHolder
  readonly #logger: Logger
  readonly #onUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void
  #listeners: Listener[] = []
  #serverConfig: ServerConfig | undefined

  constructor(holder: RuntimeHolder, logger: Logger, onUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void) {
    this.#holder = holder
    this.#logger = logger
    this.#onUpgrade = onUpgrade
  }

  get servers(): Server[] {
    return this.#listeners.map((listener) => listener.server)
  }

  get addresses(): ListenAddress[] {
    return this.#listeners.map((listener) => listener.bound)
  }

  /**
   * Makes the listeners match `config`: binds new addresses first (a failure leaves everything as it
   * was and rejects), then stops accepting on removed ones (their open connections finish), and
   * applies changed server limits to the rest. Returns what changed, for the reload log.
   */
  async apply(config: Config): Promise<string[]> {
    const wanted = config.listen.map((listener) => listener.address)
    const added: Listener[] = []
    try {
      for (const address of wanted) {
        if (this.#listeners.some((listener) => listener.configured === address)) continue
        const server = createTrafficServer(this.#holder, config.server, this.#logger, { onUpgrade: this.#onUpgrade })
        added.push({ configured: address, server, bound: await bind(server, parseListenAddress(address) as ListenAddress, 'traffic') })
      }
    } catch (error) {
      await Promise.all(added.map((listener) => unbind(listener.server)))
      throw error
    }
    const removed = this.#listeners.filter((listener) => !wanted.includes(listener.configured))
    // Stop accepting only (net.Server's close): their keep-alive connections finish their requests.
    for (const listener of removed) NetServer.prototype.close.call(listener.server)
    const changes = [...added.map((listener) => `listening on ${formatAddress(listener.bound)}`), ...removed.map((listener) => `stopped listening on ${formatAddress(listener.bound)}`)]
    this.#listeners = [...this.#listeners.filter((listener) => !removed.includes(listener)), ...added]
    if (this.#serverConfig !== undefined && JSON.stringify(this.#serverConfig) !== JSON.stringify(config.server)) {
      for (const listener of this.#listeners) applyServerLimits(listener.server, config.server)
      changes.push('server limits updated')
      if (this.#serverConfig.maxHeaderSize !== config.server.maxHeaderSize) changes.push('server.maxHeaderSize applies to new listeners only (restart to apply everywhere)')
    }
    this.#serverConfig = config.server
    return changes
  }

  /** Stops accepting on every listener. */
  async close(): Promise<void> {
    await Promise.all(this.#listeners.map((listener) => unbind(listener.server)))
  }
}
