/**
 * TLS settings in the config: certificate, key and CA files are checked when the config is loaded,
 * and every problem names the file and the key path (missing file, not PEM, mismatched key, missing
 * CA); relative paths resolve against the config file's directory; listener/HTTP/2 combinations
 * that cannot work are refused; insecureSkipVerify and expired certificates are warned about.
 */
import { copyFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfigFile } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/errors/config-error.js'
import { createTestCa, type IssuedCertificate, type TestCa } from '../../helpers/certificates.js'

let ca: TestCa
let good: IssuedCertificate
let other: IssuedCertificate

beforeAll(() => {
  ca = createTestCa()
  good = ca.issue('good', 'good.test', ['DNS:good.test'])
  other = ca.issue('other', 'other.test', ['DNS:other.test'])
})

function write(config: object): string {
  const file = join(ca.dir, `config-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, stringify({ pools: [{ name: 'web', endpoints: ['http://127.0.0.1:1'] }], ...config }))
  return file
}

function problems(config: object): string[] {
  const file = write(config)
  try {
    loadConfigFile(file, {})
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    // Line numbers depend on how the YAML is laid out; that there is one is what matters here.
    return error.message.split('\n').map((line) => line.replace(`${file}: `, '').replace(/\(line \d+\)$/, '(line N)'))
  }
  throw new Error('the config loaded without error')
}

describe('listener TLS files are checked at load', () => {
  it('a missing certificate file names the key path and the file', () => {
    const missing = join(ca.dir, 'missing.crt')
    expect(problems({ listen: [{ address: '127.0.0.1:0', tls: { cert: missing, key: good.key } }] })).toEqual([
      `listen[0].tls.cert: cannot read certificate file ${missing}: no such file (ENOENT) (line N)`,
    ])
  })

  it('a missing key file in certificates[]', () => {
    const missing = join(ca.dir, 'missing.key')
    expect(problems({ listen: [{ address: '127.0.0.1:0', tls: { certificates: [{ cert: good.cert, key: good.key }, { cert: other.cert, key: missing }] } }] })).toEqual([
      `listen[0].tls.certificates[1].key: cannot read private key file ${missing}: no such file (ENOENT) (line N)`,
    ])
  })

  it('a key that belongs to another certificate', () => {
    const [line] = problems({ listen: [{ address: '127.0.0.1:0', tls: { cert: good.cert, key: other.key } }] })
    expect(line).toBe(`listen[0].tls.key: ${other.key} does not match the certificate in ${good.cert} (the first certificate of the file must be the one the key belongs to) (line N)`)
  })

  it('a file that is not PEM', () => {
    const junk = join(ca.dir, 'junk.crt')
    writeFileSync(junk, 'hello\n')
    expect(problems({ listen: [{ address: '127.0.0.1:0', tls: { cert: junk, key: good.key } }] })[0]).toMatch(/^listen\[0\]\.tls\.cert: .*junk\.crt is not a PEM certificate file/)
  })

  it('cert without key, and a TLS listener without any certificate', () => {
    expect(problems({ listen: [{ address: '127.0.0.1:0', tls: { cert: good.cert } }] })).toEqual(['listen[0].tls.key: cert and key go together — set both, or neither and list certificates (line N)'])
    expect(problems({ listen: [{ address: '127.0.0.1:0', tls: {} }] })).toEqual(['listen[0].tls.cert: missing — a TLS listener needs a certificate: set cert and key, or list certificates (line N)'])
  })

  it('HTTP/2 settings that cannot work', () => {
    expect(problems({ listen: [{ address: '127.0.0.1:0', http2: true }] })).toEqual(['listen[0].http2: HTTP/2 over cleartext needs prior knowledge — use "h2c", or add tls to negotiate it by ALPN (line N)'])
    expect(problems({ listen: [{ address: '127.0.0.1:0', http2: 'h2c', tls: { cert: good.cert, key: good.key } }] })[0]).toMatch(/^listen\[0\]\.http2: h2c is cleartext HTTP\/2/)
  })

  it('relative paths resolve against the config file directory', () => {
    copyFileSync(good.cert, join(ca.dir, 'relative.crt'))
    copyFileSync(good.key, join(ca.dir, 'relative.key'))
    const loaded = loadConfigFile(write({ listen: [{ address: '127.0.0.1:0', tls: { cert: 'relative.crt', key: './relative.key' } }] }), {})
    expect(loaded.config.listen[0]?.tls).toMatchObject({ cert: join(ca.dir, 'relative.crt'), key: join(ca.dir, 'relative.key'), minVersion: 'TLSv1.2', certificates: [] })
    expect(loaded.config.listen[0]?.http2).toBeUndefined()
  })
})

describe('pool TLS', () => {
  it('a missing CA file names pools[i].tls.ca', () => {
    const missing = join(ca.dir, 'nope-ca.crt')
    expect(problems({ pools: [{ name: 'web', endpoints: ['https://127.0.0.1:1'], tls: { ca: missing } }] })).toEqual([
      `pools[0].tls.ca: cannot read CA certificate file ${missing}: no such file (ENOENT) (line N)`,
    ])
  })

  it('insecureSkipVerify loads with a warning', () => {
    const file = write({ pools: [{ name: 'web', endpoints: ['https://127.0.0.1:1'], tls: { insecureSkipVerify: true } }] })
    const loaded = loadConfigFile(file, {})
    expect(loaded.warnings).toEqual([`${file}: pools[0].tls.insecureSkipVerify is true — certificates of pool "web"'s https endpoints are not verified; anyone on the network path can impersonate them`])
  })
})
