import { describe, expect, it } from 'vitest'
import { TrustedNetworks } from '../../../src/net/trusted-networks.js'

describe('TrustedNetworks', () => {
  const trusted = new TrustedNetworks(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32'])

  it('contains addresses inside the CIDRs and single addresses, of both families', () => {
    for (const address of ['10.0.0.1', '10.255.255.255', '192.168.1.7', '2001:db8::1', '2001:db8:ffff::9']) expect(trusted.contains(address), address).toBe(true)
  })

  it('does not contain addresses outside, or text that is no address', () => {
    for (const address of ['11.0.0.1', '192.168.1.8', '2001:db9::1', '::ffff:10.0.0.1x', 'unknown', '10.0.0.1:80', '']) expect(trusted.contains(address), address).toBe(false)
  })

  it('answers the same after its memo filled up and was cleared', () => {
    for (let i = 0; i < 10_000; i++) expect(trusted.contains(`172.16.${(i >> 8) & 255}.${i & 255}`)).toBe(false)
    expect(trusted.contains('10.1.2.3')).toBe(true)
    expect(trusted.contains('11.1.2.3')).toBe(false)
  })
})
