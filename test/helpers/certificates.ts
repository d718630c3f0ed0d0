/**
 * @module A throwaway certificate authority for TLS tests, made with the `openssl` command line.
 *
 * Keys are EC P-256 (fast to generate); certificates are valid for two days. Everything lives in a
 * temp directory of its own, so tests can replace files in place to exercise certificate reloads.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A certificate and its key, as files. */
export interface IssuedCertificate {
  readonly cert: string
  readonly key: string
}

/** A test CA that issues server certificates into its directory. */
export interface TestCa {
  readonly dir: string
  /** Path of the CA certificate (PEM). */
  readonly caCert: string
  readonly caPem: Buffer
  /**
   * Issues a certificate for `commonName` with subjectAltName `sans` (e.g. `DNS:a.test`,
   * `IP:127.0.0.1`) into `<file>.crt` / `<file>.key` (overwriting: that is how tests rotate).
   */
  issue(file: string, commonName: string, sans: readonly string[]): IssuedCertificate
}

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('/usr/bin/openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Creates a CA (optionally in a given directory). */
export function createTestCa(name = 'Latch Test CA', dir = mkdtempSync(join(tmpdir(), 'latch-tls-'))): TestCa {
  const caKey = join(dir, `${name.replaceAll(' ', '-')}.key`)
  const caCert = join(dir, `${name.replaceAll(' ', '-')}.crt`)
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir)
  let serial = 1
  return {
    dir,
    caCert,
    caPem: readFileSync(caCert),
    issue(file, commonName, sans) {
      const key = join(dir, `${file}.key`)
      const cert = join(dir, `${file}.crt`)
      const csr = join(dir, `${file}.csr`)
      const ext = join(dir, `${file}.ext`)
      writeFileSync(ext, `subjectAltName=${sans.join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`)
      // Written next to the final files and renamed over them is not needed: tests that rotate wait for the reload.
      openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${commonName}`], dir)
      openssl(['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-set_serial', String(serial++), '-days', '2', '-out', cert, '-extfile', ext], dir)
      return { cert, key }
    },
  }
}
