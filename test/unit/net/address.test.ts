import { describe, expect, it } from 'vitest'
import { isLoopbackHost } from '../../../src/net/address.js'

describe('isLoopbackHost', () => {
  it('is true for loopback addresses: 127.0.0.0/8, ::1 and IPv4-mapped 127.x', () => {
    for (const address of ['127.0.0.1', '127.255.0.9', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::ffff:127.1.2.3', '::ffff:7f00:1']) {
      expect(isLoopbackHost(address), address).toBe(true)
    }
  })

  it('is false for names, even ones that start with "127." or read "localhost": a name resolves to anything', () => {
    for (const name of ['127.evil.example', '127.0.0.1.evil.example', '127.0.0.1.nip.io', 'localhost', 'localhost.evil.example']) {
      expect(isLoopbackHost(name), name).toBe(false)
    }
  })

  it('is false for other addresses', () => {
    for (const address of ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', '::2', 'fe80::1']) {
      expect(isLoopbackHost(address), address).toBe(false)
    }
  })
})
