/**
 * @module The traffic listeners of a process: bound at start, added/removed/retuned on reload.
 */
import type { IncomingMessage } from 'node:http'
import { Server as NetServer, type Socket } from 'node:net'
import type { Config, ListenerConfig, ServerConfig } from '../config/schema.js'
import { formatAddress, parseListenAddress, type ListenAddress } from '../net/address.js'
import type { Logger } from '../observability/logger.js'
import type { RuntimeHolder } from '../proxying/handler.js'
import { ListenerCertificates, type CertificateEvents } from '../tls/listener-certificates.js'
import { bind, unbind } from './bind.js'
import { ProxyProtocolGate, type ProxyProtocolEvents } from './proxy-protocol-gate.js'
import { applyServerLimits, createTrafficServer, type ListenerProtocol, type TrafficServer } from './traffic-server.js'

interface Listener {
  /** The address as configured (the key; e.g. `0.0.0.0:8080` or `127.0.0.1:0`). */
  readonly configured: string
  readonly config: ListenerConfig
  readonly server: TrafficServer
  readonly bound: ListenAddress
  readonly certificates: ListenerCertificates | undefined
  readonly proxyProtocol: ProxyProtocolGate
}

/** `http`, `https`, `https+h2` or `h2c`: what a listener speaks, which cannot change while it is bound. */
export function protocolName(listener: ListenerConfig): string {
  if (listener.tls === undefined) return listener.http2 === 'h2c' ? 'h2c' : 'http'
  return listener.http2 === false ? 'https' : 'https+h2'
}

/** Every traffic listener, keyed by its configured address. */
export class ListenerSet {
  readonly #holder: RuntimeHolder
  readonly #logger: Logger
  readonly #onUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void
  readonly #events: (CertificateEvents & ProxyProtocolEvents) | undefined
  #listeners: Listener[] = []
  #serverConfig: ServerConfig | undefined

  constructor(holder: RuntimeHolder, logger: Logger, onUpgrade: (req: IncomingMessage, socket: Socket, head: Buffer) => void, events?: CertificateEvents & ProxyProtocolEvents) {
    this.#holder = holder
    this.#logger = logger
    this.#onUpgrade = onUpgrade
    this.#events = events
  }

  get servers(): TrafficServer[] {
    return this.#listeners.map((listener) => listener.server)
  }

  get addresses(): ListenAddress[] {
    return this.#listeners.map((listener) => listener.bound)
  }

  /** Certificates in use per TLS listener (configured address → certificates), for logs and tests. */
  certificates(): Record<string, ReturnType<ListenerCertificates['describe']>> {
    return Object.fromEntries(this.#listeners.flatMap((listener) => (listener.certificates === undefined ? [] : [[listener.configured, listener.certificates.describe()]])))
  }

  /**
   * Makes the listeners match `config`: binds new addresses first (a failure leaves everything as it
   * was and rejects), then stops accepting on removed ones (their open connections finish), and
   * applies changed server limits and certificates to the rest. Returns what changed, for the reload log.
   */
  async apply(config: Config): Promise<string[]> {
    const wanted = new Map(config.listen.map((listener) => [listener.address, listener]))
    const changes: string[] = []
    // Certificates first: a file that turned bad since validation fails the reload before anything is bound.
    const kept = this.#listeners.filter((listener) => wanted.has(listener.configured)).map((listener) => this.#retune(listener, wanted.get(listener.configured) as ListenerConfig, changes))
    const added: Listener[] = []
    try {
      for (const [address, listenerConfig] of wanted) {
        if (this.#listeners.some((listener) => listener.configured === address)) continue
        added.push(await this.#open(address, listenerConfig, config.server))
      }
    } catch (error) {
      await Promise.all(added.map((listener) => this.#shut(listener)))
      throw error
    }
    const removed = this.#listeners.filter((listener) => !wanted.has(listener.configured))
    // Stop accepting only (net.Server's close): their keep-alive connections finish their requests.
    for (const listener of removed) {
      NetServer.prototype.close.call(listener.server)
      listener.certificates?.close()
    }
    changes.unshift(...added.map((listener) => `listening on ${formatAddress(listener.bound)} (${protocolName(listener.config)})`), ...removed.map((listener) => `stopped listening on ${formatAddress(listener.bound)}`))
    this.#listeners = [...kept, ...added]
    if (this.#serverConfig !== undefined && JSON.stringify(this.#serverConfig) !== JSON.stringify(config.server)) {
      for (const listener of this.#listeners) applyServerLimits(listener.server, config.server)
      changes.push('server limits updated')
      if (this.#serverConfig.maxHeaderSize !== config.server.maxHeaderSize) changes.push('server.maxHeaderSize applies to new listeners only (restart to apply everywhere)')
    }
    this.#serverConfig = config.server
    return changes
  }

  /** Stops accepting on every listener and stops watching certificate files. */
  async close(): Promise<void> {
    await Promise.all(this.#listeners.map((listener) => this.#shut(listener)))
  }

  async #open(address: string, config: ListenerConfig, server: ServerConfig): Promise<Listener> {
    const certificates = config.tls === undefined ? undefined : new ListenerCertificates(address, config.tls, this.#logger, this.#events)
    try {
      const protocol: ListenerProtocol = certificates !== undefined ? { kind: 'tls', certificates, http2: config.http2 !== false } : config.http2 === 'h2c' ? { kind: 'h2c' } : { kind: 'http' }
      const created = createTrafficServer(this.#holder, server, this.#logger, { onUpgrade: this.#onUpgrade }, protocol)
      // Installed on every listener (a pass-through when off), so a reload can turn it on or off.
      const proxyProtocol = new ProxyProtocolGate(address, config, this.#logger, this.#events)
      proxyProtocol.install(created)
      if (certificates !== undefined) {
        // Node closes the connection itself; this only makes failed handshakes (old clients, bad SNI) visible.
        created.on('tlsClientError', (error: NodeJS.ErrnoException) => {
          const reason = error.code ?? 'unknown'
          this.#events?.handshakeFailed(address, reason)
          this.#logger.debug({ listener: address, reason, err: error.message }, 'TLS handshake failed')
        })
      }
      const bound = await bind(created, parseListenAddress(address) as ListenAddress, 'traffic')
      return { configured: address, config, server: created, bound, certificates, proxyProtocol }
    } catch (error) {
      certificates?.close()
      throw error
    }
  }

  async #shut(listener: Listener): Promise<void> {
    listener.certificates?.close()
    await unbind(listener.server)
  }

  /** A listener kept across a reload: new certificates apply at once; a protocol change needs a restart. */
  #retune(listener: Listener, next: ListenerConfig, changes: string[]): Listener {
    if (JSON.stringify(listener.config) === JSON.stringify(next)) return listener
    const where = formatAddress(listener.bound)
    if (protocolName(listener.config) !== protocolName(next)) {
      changes.push(`listener ${where}: switching from ${protocolName(listener.config)} to ${protocolName(next)} needs a restart (ignored)`)
      return listener
    }
    if (listener.certificates !== undefined && next.tls !== undefined) {
      listener.certificates.update(next.tls)
      changes.push(`listener ${where}: TLS certificates and settings reloaded`)
    }
    if (listener.proxyProtocol.update(next)) changes.push(`listener ${where}: PROXY protocol ${next.proxyProtocol ?? 'off'} (new connections)`)
    return { ...listener, config: next }
  }
}
