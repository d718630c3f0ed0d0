/**
 * @module The certificates of one TLS listener: picked by SNI, reloaded when their files change.
 *
 * Each entry holds a ready secure context; the SNI callback is a map lookup (exact name, then the
 * `*.parent` wildcard), falling back to the default certificate. The directories of the files are
 * watched rather than the files, because editors and Kubernetes Secret volumes replace files by
 * rename (a Secret swaps a `..data` symlink, so the event names neither file): any event in a
 * watched directory re-reads the files after a short debounce, and an entry is replaced only when its
 * bytes changed and the new pair is valid. A half-written or mismatched pair keeps the old
 * certificate serving; the failure is logged and counted, and the next write tries again.
 */
import { watch, type FSWatcher } from 'node:fs'
import { dirname } from 'node:path'
import type { SecureContext, Server as TlsServer } from 'node:tls'
import type { ListenerTlsConfig } from '../config/tls-schema.js'
import type { Logger } from '../observability/logger.js'
import { StartupError } from '../errors/startup-error.js'
import { isProblem, loadCertificate, type LoadedCertificate } from './certificate-files.js'

/** What certificate reloads report (metrics). */
export interface CertificateEvents {
  certificateReloaded(listener: string, ok: boolean): void
  /** A client's TLS handshake failed (`reason`: the OpenSSL/Node error code, e.g. an unsupported version). */
  handshakeFailed(listener: string, reason: string): void
}

/** Editors write in bursts, and a cert and its key are usually replaced one after the other. */
const DEBOUNCE_MS = 250

interface Entry {
  readonly certFile: string
  readonly keyFile: string
  /** Names from the config; undefined: the certificate's own names (re-read on every reload). */
  readonly serverNames: readonly string[] | undefined
  current: LoadedCertificate
}

/** The certificate set of one listener. */
export class ListenerCertificates {
  readonly #listener: string
  readonly #logger: Logger
  readonly #events: CertificateEvents | undefined
  #config: ListenerTlsConfig
  #default!: Entry
  #entries: Entry[] = []
  #exact = new Map<string, Entry>()
  #wildcard = new Map<string, Entry>()
  #servers = new Set<TlsServer>()
  #watchers = new Map<string, FSWatcher>()
  #timer: NodeJS.Timeout | undefined

  constructor(listener: string, config: ListenerTlsConfig, logger: Logger, events?: CertificateEvents) {
    this.#listener = listener
    this.#logger = logger
    this.#events = events
    this.#config = config
    this.#entries = this.#load(config)
    this.#default = this.#entries[0] as Entry
    this.#index()
    this.#watch()
  }

  /** Options for `tls.createServer`-style constructors: default certificate, SNI callback, minimum version. */
  serverOptions(): { cert: Buffer; key: Buffer; SNICallback: (name: string, done: (error: Error | null, context?: SecureContext) => void) => void; minVersion: ListenerTlsConfig['minVersion'] } {
    const { certPem, keyPem } = this.#default.current
    return { cert: certPem, key: keyPem, SNICallback: this.#sni, minVersion: this.#config.minVersion }
  }

  /** Keeps `server`'s default context (clients without SNI) in step with the default certificate. */
  attach(server: TlsServer): void {
    this.#servers.add(server)
  }

  /** Certificates in use, for logs and tests: subject, names and expiry. */
  describe(): { cert: string; subject: string; names: readonly string[]; notAfter: string }[] {
    return this.#entries.map((entry) => ({ cert: entry.certFile, subject: entry.current.subject, names: this.#namesOf(entry), notAfter: entry.current.notAfter.toISOString() }))
  }

  /**
   * A reload changed this listener's `tls` settings. The files were checked by the config loader; if
   * one changed since and is now invalid, this throws a StartupError and nothing changes.
   */
  update(config: ListenerTlsConfig): void {
    const entries = this.#load(config)
    this.#config = config
    this.#entries = entries
    this.#default = entries[0] as Entry
    this.#index()
    this.#applyDefault()
    this.#watch()
  }

  /** Stops watching the files. */
  close(): void {
    clearTimeout(this.#timer)
    for (const watcher of this.#watchers.values()) watcher.close()
    this.#watchers.clear()
  }

  readonly #sni = (name: string, done: (error: Error | null, context?: SecureContext) => void): void => {
    done(null, this.#lookup(name).current.context)
  }

  #lookup(name: string): Entry {
    const lower = name.toLowerCase()
    const exact = this.#exact.get(lower)
    if (exact !== undefined) return exact
    const dot = lower.indexOf('.')
    return (dot === -1 ? undefined : this.#wildcard.get(lower.slice(dot + 1))) ?? this.#default
  }

  /** Loads every pair of `config`, the default certificate first; throws StartupError naming the bad file. */
  #load(config: ListenerTlsConfig): Entry[] {
    const specs = [
      ...(config.cert !== undefined && config.key !== undefined ? [{ cert: config.cert, key: config.key, serverNames: undefined }] : []),
      ...config.certificates.map((certificate) => ({ cert: certificate.cert, key: certificate.key, serverNames: certificate.serverNames })),
    ]
    return specs.map((spec) => {
      const loaded = loadCertificate(spec.cert, spec.key, config.minVersion)
      if (isProblem(loaded)) throw new StartupError('TLS_CERTIFICATE', `listener ${this.#listener}: ${loaded.message}`)
      return { certFile: spec.cert, keyFile: spec.key, serverNames: spec.serverNames, current: loaded }
    })
  }

  /** Maps names to entries; for a name claimed twice, the first entry (config order) wins. */
  #index(): void {
    const exact = new Map<string, Entry>()
    const wildcard = new Map<string, Entry>()
    // The default certificate's own names come last: an explicit `certificates` entry wins over them.
    const ordered = this.#config.cert === undefined ? this.#entries : [...this.#entries.slice(1), this.#entries[0] as Entry]
    for (const entry of ordered) {
      for (const name of this.#namesOf(entry)) {
        if (name.startsWith('*.')) {
          if (!wildcard.has(name.slice(2))) wildcard.set(name.slice(2), entry)
        } else if (!exact.has(name)) {
          exact.set(name, entry)
        }
      }
    }
    this.#exact = exact
    this.#wildcard = wildcard
  }

  #namesOf(entry: Entry): readonly string[] {
    return entry.serverNames?.map((name) => name.toLowerCase()) ?? entry.current.names
  }

  #applyDefault(): void {
    // Clients that send no SNI name get the server's own context, which only setSecureContext replaces.
    const { certPem, keyPem } = this.#default.current
    for (const server of this.#servers) server.setSecureContext({ cert: certPem, key: keyPem, minVersion: this.#config.minVersion })
  }

  #watch(): void {
    const dirs = new Set(this.#entries.flatMap((entry) => [dirname(entry.certFile), dirname(entry.keyFile)]))
    for (const [dir, watcher] of this.#watchers) {
      if (dirs.has(dir)) continue
      watcher.close()
      this.#watchers.delete(dir)
    }
    for (const dir of dirs) {
      if (this.#watchers.has(dir)) continue
      try {
        const watcher = watch(dir, { persistent: false }, () => this.#changed())
        watcher.on('error', () => {
          watcher.close()
          this.#watchers.delete(dir)
        })
        this.#watchers.set(dir, watcher)
      } catch (error) {
        this.#logger.warn({ listener: this.#listener, dir, err: (error as Error).message }, 'cannot watch certificate directory; certificate changes there need a config reload')
      }
    }
  }

  #changed(): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => this.#reloadFiles(), DEBOUNCE_MS)
    this.#timer.unref()
  }

  /** Re-reads every pair; replaces the ones whose bytes changed and are valid. */
  #reloadFiles(): void {
    let changed = false
    for (const entry of this.#entries) {
      const loaded = loadCertificate(entry.certFile, entry.keyFile, this.#config.minVersion)
      if (isProblem(loaded)) {
        // Also the normal state between writing the new cert and writing its key: a later event retries.
        this.#logger.error({ listener: this.#listener, cert: entry.certFile, key: entry.keyFile, problem: loaded.message }, 'certificate reload failed; the previous certificate keeps serving')
        this.#events?.certificateReloaded(this.#listener, false)
        continue
      }
      if (loaded.digest === entry.current.digest) continue
      entry.current = loaded
      changed = true
      this.#logger.info({ listener: this.#listener, cert: entry.certFile, subject: loaded.subject, names: loaded.names, notAfter: loaded.notAfter.toISOString() }, 'certificate reloaded')
      this.#events?.certificateReloaded(this.#listener, true)
    }
    if (!changed) return
    this.#index()
    this.#applyDefault()
  }
}
