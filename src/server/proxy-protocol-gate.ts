/**
 * @module PROXY protocol on a traffic listener: reads the header a load balancer sends before the
 * client's bytes, on the raw TCP socket, before node:http, node:tls or node:http2 see the connection.
 *
 * The gate takes over the server's 'connection' event: an accepted socket is handed to the server's
 * own connection handling only once its header is read (the bytes after it pushed back with
 * `unshift`, which node:tls and node:http both read first). For TLS listeners this is what the
 * protocol requires: the header precedes the ClientHello. A connection from a source outside
 * `proxyProtocolFrom`, or whose header is missing, malformed, truncated or late, is destroyed without
 * a byte of answer (it was never HTTP), counted, and logged at a bounded rate.
 */
import type { Server as NetServer, Socket } from 'node:net'
import type { ListenerConfig } from '../config/schema.js'
import { parseProxyHeader, type ProxyProtocolVersions } from '../net/proxy-protocol-header.js'
import { setProxiedPeer } from '../net/proxied-peer.js'
import { TrustedNetworks } from '../net/trusted-networks.js'
import { LogThrottle } from '../observability/log-throttle.js'
import type { Logger } from '../observability/logger.js'
import { plainAddress } from '../proxying/client-address.js'

/** How long a connection may take to send its whole PROXY header (HAProxy's `timeout client` is the usual bound; balancers send it at once). */
export const PROXY_HEADER_TIMEOUT_MS = 3000
/** Longest header read: v2's 16 fixed bytes and a 16-bit length of addresses and TLVs. */
const MAX_HEADER_LENGTH = 16 + 0xffff
/** One log line per listener per interval for refused connections (a scan can refuse thousands). */
const REFUSAL_LOG_INTERVAL_MS = 10_000

/** Why a connection was refused (the `reason` label of `latch_proxy_protocol_refused_total`). */
export type ProxyRefusal = 'untrusted' | 'missing' | 'malformed' | 'truncated' | 'timeout'

/** What the gate reports (Metrics implements it). */
export interface ProxyProtocolEvents {
  proxyHeaderRefused(listener: string, reason: ProxyRefusal): void
}

interface GateSettings {
  /** The settings as configured, to tell whether a reload changed them. */
  readonly key: string
  readonly versions: ProxyProtocolVersions | undefined
  readonly from: TrustedNetworks
}

type ConnectionListener = (socket: Socket) => void

/** The PROXY protocol stage of one listener; its settings follow reloads. */
export class ProxyProtocolGate {
  readonly #listener: string
  readonly #logger: Logger
  readonly #events: ProxyProtocolEvents | undefined
  readonly #throttle = new LogThrottle(REFUSAL_LOG_INTERVAL_MS)
  #settings: GateSettings

  constructor(listener: string, config: ListenerConfig, logger: Logger, events: ProxyProtocolEvents | undefined) {
    this.#listener = listener
    this.#logger = logger
    this.#events = events
    this.#settings = settingsOf(config)
  }

  /** Applies a reloaded listener config (new connections only); true when the PROXY settings changed. */
  update(config: ListenerConfig): boolean {
    const next = settingsOf(config)
    if (next.key === this.#settings.key) return false
    this.#settings = next
    return true
  }

  /** Puts the gate in front of `server`'s connection handling (call once, right after creating it). */
  install(server: NetServer): void {
    const handlers = server.listeners('connection') as ConnectionListener[]
    server.removeAllListeners('connection')
    const pass = (socket: Socket): void => {
      for (const handler of handlers) handler.call(server, socket)
    }
    server.on('connection', (socket: Socket) => {
      const { versions, from } = this.#settings
      if (versions === undefined) return pass(socket)
      if (!from.contains(plainAddress(socket.remoteAddress))) return this.#refuse(socket, 'untrusted', 'source not in proxyProtocolFrom')
      this.#readHeader(socket, versions, pass)
    })
  }

  #readHeader(socket: Socket, versions: ProxyProtocolVersions, pass: (socket: Socket) => void): void {
    let buffered: Buffer | undefined
    const done = (): void => {
      clearTimeout(timer)
      socket.off('readable', onReadable)
      socket.off('end', onEnd)
      socket.off('error', onError)
    }
    const refuse = (reason: ProxyRefusal, detail: string): void => {
      done()
      this.#refuse(socket, reason, detail)
    }
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        buffered = buffered === undefined ? chunk : Buffer.concat([buffered, chunk])
        const result = parseProxyHeader(buffered, versions)
        if (result.kind === 'incomplete') {
          if (buffered.length > MAX_HEADER_LENGTH) return refuse('malformed', 'header too long')
          continue
        }
        if (result.kind === 'invalid') return refuse(result.reason, result.detail)
        done()
        if (result.source !== undefined) setProxiedPeer(socket, result.source)
        if (buffered.length > result.length) socket.unshift(buffered.subarray(result.length))
        return pass(socket)
      }
    }
    const onEnd = (): void => refuse('truncated', buffered === undefined ? 'closed before sending a header' : 'closed in the middle of the header')
    const onError = (): void => refuse('truncated', 'connection error before the header')
    const timer = setTimeout(() => refuse(buffered === undefined ? 'timeout' : 'truncated', `no whole header within ${PROXY_HEADER_TIMEOUT_MS} ms`), PROXY_HEADER_TIMEOUT_MS)
    socket.on('readable', onReadable)
    socket.on('end', onEnd)
    socket.on('error', onError)
  }

  #refuse(socket: Socket, reason: ProxyRefusal, detail: string): void {
    const peer = socket.remoteAddress
    // Errors after this point (a reset while destroying) have no one left to tell.
    socket.on('error', () => {})
    socket.destroy()
    this.#events?.proxyHeaderRefused(this.#listener, reason)
    const suppressed = this.#throttle.admit(Date.now())
    if (suppressed !== undefined) this.#logger.warn({ listener: this.#listener, reason, detail, peer, suppressed }, 'refused a connection: no valid PROXY protocol header from a trusted source')
  }
}

function settingsOf(config: ListenerConfig): GateSettings {
  const mode = config.proxyProtocol ?? 'off'
  const from = config.proxyProtocolFrom ?? []
  return { key: JSON.stringify([mode, from]), versions: mode === 'off' ? undefined : mode, from: new TrustedNetworks(from) }
}
