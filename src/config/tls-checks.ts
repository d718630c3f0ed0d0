/**
 * @module Checks the TLS files a config names (certificates, keys, CAs), after the schema passed.
 *
 * Relative paths are resolved against the config file's directory (like manifest paths) and written
 * back as absolute paths, so listeners, pools and watchers never depend on the working directory.
 * A file that is missing, unreadable, not PEM, or a key that does not match its certificate, is an
 * issue on the key path that names it: it fails the start, or is rejected by a reload.
 */
import { resolve } from 'node:path'
import type { ConfigIssue } from '../errors/config-error.js'
import { isProblem, loadCertificate, readCaFile } from '../tls/certificate-files.js'
import type { Config } from './schema.js'
import type { TlsVersion } from './tls-schema.js'
import { formatKeyPath, type YamlDocument } from './yaml-source.js'

/** Where the config came from, for locating issues and resolving relative paths. */
export interface TlsCheckLocation {
  readonly file: string
  readonly doc: YamlDocument | undefined
  readonly baseDir: string
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Resolves TLS file paths in `config` (which is not frozen yet) and checks every file; adds issues
 * and warnings (expired certificates, insecureSkipVerify).
 */
export function checkTlsFiles(config: Config, where: TlsCheckLocation, issues: ConfigIssue[], warnings: string[]): void {
  const at = (path: (string | number)[], message: string): ConfigIssue => {
    const line = where.doc?.lineOf(path)
    const text = formatKeyPath(path)
    return line === undefined ? { file: where.file, path: text, message } : { file: where.file, path: text, message, line }
  }
  config.listen.forEach((listener, index) => {
    const tls = listener.tls
    if (tls === undefined) return
    const pairs: { path: (string | number)[]; entry: Mutable<{ cert: string; key: string }> }[] = []
    if (tls.cert !== undefined && tls.key !== undefined) pairs.push({ path: ['listen', index, 'tls'], entry: tls as Mutable<{ cert: string; key: string }> })
    tls.certificates.forEach((certificate, position) => pairs.push({ path: ['listen', index, 'tls', 'certificates', position], entry: certificate }))
    for (const { path, entry } of pairs) {
      entry.cert = resolve(where.baseDir, entry.cert)
      entry.key = resolve(where.baseDir, entry.key)
      checkPair(entry.cert, entry.key, tls.minVersion, path, at, issues, warnings)
    }
  })
  config.pools.forEach((pool, index) => {
    const tls = pool.tls as Mutable<NonNullable<typeof pool.tls>> | undefined
    if (tls === undefined) return
    if (tls.ca !== undefined) {
      tls.ca = resolve(where.baseDir, tls.ca)
      const ca = readCaFile(tls.ca)
      if (typeof ca === 'string') issues.push(at(['pools', index, 'tls', 'ca'], ca))
    }
    if (tls.insecureSkipVerify) {
      warnings.push(`${where.file}: pools[${index}].tls.insecureSkipVerify is true — certificates of pool "${pool.name}"'s https endpoints are not verified; anyone on the network path can impersonate them`)
    }
  })
}

function checkPair(cert: string, key: string, minVersion: TlsVersion, path: (string | number)[], at: (path: (string | number)[], message: string) => ConfigIssue, issues: ConfigIssue[], warnings: string[]): void {
  const loaded = loadCertificate(cert, key, minVersion)
  if (isProblem(loaded)) {
    issues.push(at([...path, loaded.field], loaded.message))
    return
  }
  if (loaded.notAfter.getTime() < Date.now()) warnings.push(`${formatKeyPath([...path, 'cert'])}: certificate ${cert} (${loaded.subject}) expired on ${loaded.notAfter.toISOString()}`)
}
