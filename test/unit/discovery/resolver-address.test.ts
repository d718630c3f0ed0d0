import { describe, expect, it } from 'vitest'
import { checkResolverAddress } from '../../../src/discovery/resolver-address.js'
import { validateConfig } from '../../../src/config/load.js'

describe('checkResolverAddress', () => {
  it.each(['10.96.0.10', '127.0.0.1:5353', '::1', 'fd00::10', '[fd00::10]', '[fd00::10]:53', '127.0.0.11:53'])('accepts %s', (text) => {
    expect(checkResolverAddress(text)).toBeUndefined()
  })

  it.each([
    ['kube-dns.kube-system', 'invalid resolver'],
    ['10.0.0.256:53', 'invalid IPv4 address'],
    ['[nothing]:53', 'invalid IPv6 address'],
    ['127.0.0.1:0', 'invalid port'],
    ['127.0.0.1:65536', 'invalid port'],
    ['127.0.0.1:', 'invalid resolver'],
    [':53', 'invalid resolver'],
    ['', 'invalid resolver'],
  ])('rejects %j', (text, problem) => {
    expect(checkResolverAddress(text)).toContain(problem)
  })
})

describe('discovery.resolver in a config', () => {
  const config = (discovery: object) => ({ pools: [{ name: 'web', discovery: { dns: 'web.latch.test', port: 8080, ...discovery } }] })

  it('refuses a resolver that is not an address, naming the key', () => {
    expect(() => validateConfig(config({ resolver: 'kube-dns' }), { file: 'latch.yaml', baseDir: '.' })).toThrow(/pools\.0\.discovery\.resolver|pools\[0\]\.discovery\.resolver/)
    expect(() => validateConfig(config({ resolver: 'kube-dns' }), { file: 'latch.yaml', baseDir: '.' })).toThrow(/invalid resolver "kube-dns"/)
  })

  it('accepts ip:port and defaults emptyAfter to 3', () => {
    const loaded = validateConfig(config({ resolver: '127.0.0.1:5353' }), { file: 'latch.yaml', baseDir: '.' })
    expect(loaded.config.pools[0]?.discovery).toMatchObject({ resolver: '127.0.0.1:5353', emptyAfter: 3, interval: 5000, srv: false, scheme: 'http', weight: 1 })
  })
})
