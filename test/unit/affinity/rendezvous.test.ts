import { describe, expect, it } from 'vitest'
import { rendezvousScore } from '../../../src/affinity/rendezvous.js'
import { fmix32, hashString } from '../../../src/upstream/id-hash.js'
import { maxDeviation } from './affinity-fixtures.js'

/** The winner among `endpoints` (id hash, weight) for `key`, as HashAffinity chooses without a load bound. */
function winner(key: string, endpoints: readonly { hash: number; weight: number }[]): number {
  const keyHash = hashString(key)
  let best = -1
  let top = -Infinity
  endpoints.forEach((endpoint, index) => {
    const score = rendezvousScore(keyHash, endpoint.hash, endpoint.weight)
    if (score > top) {
      top = score
      best = index
    }
  })
  return best
}

const ids = (count: number): { hash: number; weight: number }[] => Array.from({ length: count }, (_, index) => ({ hash: hashString(`10.1.0.${index + 1}:8080`), weight: 1 }))
const KEYS = Array.from({ length: 10_000 }, (_, index) => `user-${index}`)

describe('rendezvous hashing', () => {
  it('hashes deterministically to unsigned 32-bit values, with avalanche', () => {
    expect(hashString('abc')).toBe(hashString('abc'))
    expect(hashString('abc')).not.toBe(hashString('abd'))
    for (const text of ['', 'a', '10.0.0.1', 'x'.repeat(1000)]) {
      const hash = hashString(text)
      expect(Number.isInteger(hash) && hash >= 0 && hash < 2 ** 32).toBe(true)
    }
    expect(fmix32(0)).toBe(0)
    // One input bit flips about half of the output bits.
    let flipped = 0
    for (let bit = 0; bit < 32; bit++) flipped += popcount(fmix32(12345) ^ fmix32(12345 ^ (1 << bit)))
    expect(flipped / 32).toBeGreaterThan(12)
    expect(flipped / 32).toBeLessThan(20)
  })

  it('spreads 10,000 keys over 5 endpoints within ±15 % of even', () => {
    const counts = [0, 0, 0, 0, 0]
    for (const key of KEYS) (counts[winner(key, ids(5))] as number)++
    expect(maxDeviation(counts), counts.join(', ')).toBeLessThanOrEqual(0.15)
  })

  it('adding a 6th endpoint to 5 remaps at most 1/6 + 2 % of 10,000 keys, all of them to the new endpoint', () => {
    const five = ids(5)
    const six = ids(6)
    let remapped = 0
    for (const key of KEYS) {
      const before = winner(key, five)
      const after = winner(key, six)
      if (before === after) continue
      remapped++
      expect(after).toBe(5)
    }
    expect(remapped / KEYS.length).toBeLessThanOrEqual(1 / 6 + 0.02)
    expect(remapped).toBeGreaterThan(0)
  })

  it('removing one of 5 endpoints remaps only that endpoint\'s keys', () => {
    const five = ids(5)
    const four = [five[0], five[1], five[3], five[4]] as typeof five
    const index = [0, 1, 3, 4]
    let moved = 0
    for (const key of KEYS) {
      const before = winner(key, five)
      const after = index[winner(key, four)]
      if (before === 2) moved++
      else expect(after, key).toBe(before)
    }
    expect(moved / KEYS.length).toBeGreaterThan(0.1)
  })

  it('keeps key shares proportional to weights (1:3)', () => {
    const weighted = [{ hash: hashString('a:1'), weight: 1 }, { hash: hashString('b:1'), weight: 3 }]
    const light = KEYS.filter((key) => winner(key, weighted) === 0).length / KEYS.length
    expect(light).toBeGreaterThan(0.22)
    expect(light).toBeLessThan(0.28)
  })
})

function popcount(value: number): number {
  let bits = 0
  for (let rest = value >>> 0; rest !== 0; rest >>>= 1) bits += rest & 1
  return bits
}
