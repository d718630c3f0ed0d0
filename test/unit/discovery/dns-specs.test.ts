import { describe, expect, it } from 'vitest'
import { specIds, specsFromTargets } from '../../../src/discovery/dns-specs.js'
import { endpointIdOf } from '../../../src/upstream/endpoint-id.js'

describe('specsFromTargets', () => {
  it('builds scheme://ip:port URLs with the configured weight', () => {
    expect(specsFromTargets([{ address: '10.0.0.1', port: 8080 }], 'http', 3)).toEqual([{ url: 'http://10.0.0.1:8080', weight: 3 }])
    expect(specsFromTargets([{ address: '10.0.0.1', port: 8443 }], 'https', 1)).toEqual([{ url: 'https://10.0.0.1:8443', weight: 1 }])
  })

  it('puts IPv6 addresses in brackets, in canonical form, so the id matches the pool\'s', () => {
    const specs = specsFromTargets([{ address: '2001:DB8:0:0:0:0:0:1', port: 80 }], 'http', 1)
    expect(specs).toEqual([{ url: 'http://[2001:db8::1]:80', weight: 1 }])
    expect(specIds(specs)).toEqual(['[2001:db8::1]:80'])
    expect(specIds(specs)[0]).toBe(endpointIdOf(new URL(specs[0]!.url)))
  })

  it('sorts IPv4 numerically before IPv6, then by port', () => {
    const specs = specsFromTargets(
      [
        { address: 'fd00::2', port: 80 },
        { address: '10.0.0.10', port: 80 },
        { address: '10.0.0.2', port: 81 },
        { address: '::1', port: 80 },
        { address: '10.0.0.2', port: 80 },
        { address: '9.255.255.255', port: 80 },
      ],
      'http',
      1,
    )
    expect(specIds(specs)).toEqual(['9.255.255.255:80', '10.0.0.2:80', '10.0.0.2:81', '10.0.0.10:80', '[::1]:80', '[fd00::2]:80'])
  })

  it('gives the same list whatever order the records came in (replicas agree)', () => {
    const targets = [
      { address: '10.1.0.3', port: 8080 },
      { address: '10.1.0.1', port: 8080 },
      { address: 'fd00::5', port: 8080 },
      { address: '10.1.0.2', port: 8080 },
    ]
    const first = specsFromTargets(targets, 'http', 1)
    const rotated = specsFromTargets([...targets.slice(2), ...targets.slice(0, 2)], 'http', 1)
    const reversed = specsFromTargets([...targets].reverse(), 'http', 1)
    expect(rotated).toEqual(first)
    expect(reversed).toEqual(first)
    expect(specIds(first)).toEqual(['10.1.0.1:8080', '10.1.0.2:8080', '10.1.0.3:8080', '[fd00::5]:8080'])
  })

  it('drops duplicates, including IPv6 written two ways', () => {
    const specs = specsFromTargets(
      [
        { address: '10.0.0.1', port: 80 },
        { address: '10.0.0.1', port: 80 },
        { address: 'fd00:0:0::1', port: 80 },
        { address: 'FD00::1', port: 80 },
      ],
      'http',
      1,
    )
    expect(specIds(specs)).toEqual(['10.0.0.1:80', '[fd00::1]:80'])
  })

  it('keeps one address with several ports (SRV) as several endpoints', () => {
    expect(specIds(specsFromTargets([{ address: '10.0.0.1', port: 9000 }, { address: '10.0.0.1', port: 8000 }], 'http', 1))).toEqual(['10.0.0.1:8000', '10.0.0.1:9000'])
  })

  it('returns nothing for no targets', () => {
    expect(specsFromTargets([], 'http', 1)).toEqual([])
  })
})
