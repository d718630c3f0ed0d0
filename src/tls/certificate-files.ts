/**
 * @module Reads a PEM certificate and its key into a TLS secure context, saying which file is wrong.
 *
 * The same function checks certificates when a config is validated (start, reload) and loads them
 * when a listener is built or a watched file changes, so a bad file is described the same way
 * everywhere: unreadable, not PEM, key encrypted or not matching the certificate.
 */
import { createPrivateKey, createHash, X509Certificate, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContext } from 'node:tls'
import type { TlsVersion } from '../config/tls-schema.js'

/** A certificate ready to serve. */
export interface LoadedCertificate {
  readonly certFile: string
  readonly keyFile: string
  readonly context: SecureContext
  /** The files' bytes, for servers that build their default context themselves. */
  readonly certPem: Buffer
  readonly keyPem: Buffer
  /** Lower-case DNS names of the leaf certificate: subjectAltName DNS entries, else its CN. */
  readonly names: readonly string[]
  /** The leaf's subject, e.g. `CN=app.example.com`. */
  readonly subject: string
  readonly notAfter: Date
  /** SHA-256 of the cert and key file contents: a changed file with the same bytes is not a change. */
  readonly digest: string
}

/** Which of the two files is wrong, and how. */
export interface CertificateProblem {
  readonly field: 'cert' | 'key'
  readonly message: string
}

/** Loads `certFile` and `keyFile`; never throws. */
export function loadCertificate(certFile: string, keyFile: string, minVersion: TlsVersion): LoadedCertificate | CertificateProblem {
  const certPem = readPem(certFile, 'certificate')
  if (typeof certPem === 'string') return { field: 'cert', message: certPem }
  let leaf: X509Certificate
  try {
    leaf = new X509Certificate(certPem)
  } catch (error) {
    return { field: 'cert', message: `${certFile} is not a PEM certificate (${(error as Error).message})` }
  }
  const keyPem = readPem(keyFile, 'private key')
  if (typeof keyPem === 'string') return { field: 'key', message: keyPem }
  let key: KeyObject
  try {
    key = createPrivateKey(keyPem)
  } catch (error) {
    return { field: 'key', message: `${keyFile} is not an unencrypted PEM private key (${(error as Error).message})` }
  }
  if (!leaf.checkPrivateKey(key)) return { field: 'key', message: `${keyFile} does not match the certificate in ${certFile} (the first certificate of the file must be the one the key belongs to)` }
  let context: SecureContext
  try {
    context = createSecureContext({ cert: certPem, key: keyPem, minVersion })
  } catch (error) {
    return { field: 'cert', message: `${certFile} cannot be used with ${keyFile}: ${(error as Error).message}` }
  }
  const digest = createHash('sha256').update(certPem).update(keyPem).digest('hex')
  return { certFile, keyFile, context, certPem, keyPem, names: namesOf(leaf), subject: leaf.subject.replaceAll('\n', ', '), notAfter: new Date(leaf.validTo), digest }
}

/** True when `loaded` is a problem rather than a certificate. */
export function isProblem(loaded: LoadedCertificate | CertificateProblem): loaded is CertificateProblem {
  return 'field' in loaded
}

/** Reads a PEM file of CA certificates; a message when it is unreadable or holds no certificate. */
export function readCaFile(file: string): Buffer | string {
  const pem = readPem(file, 'CA certificate')
  if (typeof pem === 'string') return pem
  try {
    new X509Certificate(pem)
  } catch (error) {
    return `${file} holds no PEM certificate (${(error as Error).message})`
  }
  return pem
}

/** The DNS names a certificate is valid for, as SNI names to serve it under. */
export function namesOf(leaf: X509Certificate): string[] {
  const names: string[] = []
  for (const entry of (leaf.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4).toLowerCase())
  }
  if (names.length > 0) return names
  const cn = /^CN=(.+)$/m.exec(leaf.subject)?.[1]
  return cn === undefined ? [] : [cn.toLowerCase()]
}

function readPem(file: string, what: string): Buffer | string {
  let data: Buffer
  try {
    data = readFileSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (error as Error).message
    return `cannot read ${what} file ${file}: ${why} (${code})`
  }
  if (!data.includes('-----BEGIN')) return `${file} is not a PEM ${what} file (no "-----BEGIN" line)`
  return data
}
