/**
 * `proxyProtocol` and `proxyProtocolFrom` on listeners: on needs trusted sources, and every mistake
 * names the file and the key path.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfigFile } from '../../../src/config/load.js'
import { configProblems } from '../../helpers/config-problems.js'

const dir = mkdtempSync(join(tmpdir(), 'latch-proxy-protocol-'))

function write(listen: unknown): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, stringify({ listen, pools: [{ name: 'web', endpoints: ['http://127.0.0.1:1'] }] }))
  return file
}

function problems(listen: unknown): string[] {
  return configProblems(write(listen))
}

describe('listener proxyProtocol', () => {
  it('loads each mode with trusted sources, and stays off by default', () => {
    for (const mode of ['off', 'v1', 'v2', 'either']) {
      const loaded = loadConfigFile(write([{ address: '127.0.0.1:0', proxyProtocol: mode, proxyProtocolFrom: ['10.0.0.0/8', '::1'] }]), {})
      expect(loaded.config.listen[0]?.proxyProtocol).toBe(mode)
    }
    expect(loadConfigFile(write('127.0.0.1:0'), {}).config.listen[0]?.proxyProtocol).toBeUndefined()
  })

  it('requires proxyProtocolFrom when on', () => {
    expect(problems([{ address: '127.0.0.1:0', proxyProtocol: 'v2' }])).toEqual([
      "listen[0].proxyProtocolFrom: required when proxyProtocol is v2 — list the load balancers' addresses (CIDRs, e.g. [10.0.0.0/8]) so nobody else can claim a client address",
    ])
    expect(problems([{ address: '127.0.0.1:0', proxyProtocol: 'either', proxyProtocolFrom: [] }])[0]).toMatch(/^listen\[0\]\.proxyProtocolFrom: required when proxyProtocol is either/)
  })

  it('names an unknown mode and a bad CIDR', () => {
    expect(problems([{ address: '127.0.0.1:0', proxyProtocol: 'v3', proxyProtocolFrom: ['10.0.0.0/8'] }])).toEqual(['listen[0].proxyProtocol: expected one of off, v1, v2, either, got "v3" (did you mean "v1"?)'])
    expect(problems([{ address: '127.0.0.1:0', proxyProtocol: 'v1', proxyProtocolFrom: ['10.0.0.0/33'] }])[0]).toMatch(/^listen\[0\]\.proxyProtocolFrom\[0\]: invalid CIDR "10\.0\.0\.0\/33"/)
  })
})
