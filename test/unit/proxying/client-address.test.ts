import { describe, expect, it } from 'vitest'
import { TrustedNetworks } from '../../../src/net/trusted-networks.js'
import { forwardedProto, resolveClientAddress } from '../../../src/proxying/client-address.js'

const trusted = new TrustedNetworks(['10.0.0.0/8', '127.0.0.1/32'])

describe('forwardedProto', () => {
  it('takes the proto of the element the outermost trusted proxy added', () => {
    expect(forwardedProto(trusted, 'for=203.0.113.7;proto=https')).toBe('https')
    expect(forwardedProto(trusted, 'for=203.0.113.7;proto=HTTPS, for=10.1.1.1;proto=http')).toBe('https')
    expect(forwardedProto(trusted, 'for=198.51.100.1;proto=https, for=203.0.113.7;proto=http')).toBe('http')
    expect(forwardedProto(trusted, 'for="[2001:db8::1]:4711";proto=https')).toBe('https')
    expect(forwardedProto(trusted, 'for=unknown;proto=https, for=10.1.1.1;proto=http')).toBe('https')
  })

  it('is undefined when that element names no proto; the left-most when every hop is trusted', () => {
    expect(forwardedProto(trusted, 'for=203.0.113.7')).toBeUndefined()
    expect(forwardedProto(trusted, 'for=203.0.113.7, for=10.1.1.1;proto=https')).toBeUndefined()
    expect(forwardedProto(trusted, 'for=10.2.2.2;proto=https, for=10.1.1.1;proto=http')).toBe('https')
  })

  it('agrees with the client address on which element describes the client', () => {
    const chain = 'for=198.51.100.1;proto=https, for=203.0.113.7;proto=http, for=10.1.1.1;proto=http'
    expect(resolveClientAddress('127.0.0.1', trusted, undefined, chain)).toBe('203.0.113.7')
    expect(forwardedProto(trusted, chain)).toBe('http')
  })
})
