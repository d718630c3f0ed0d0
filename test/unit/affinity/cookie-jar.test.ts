import { describe, expect, it } from 'vitest'
import { readCookie, withoutCookie } from '../../../src/affinity/cookie-jar.js'

/** The plain definition withoutCookie must match: split on ';', trim, drop `name`, join with '; '. */
function reference(header: string, name: string): string | undefined {
  const kept: string[] = []
  for (const pair of header.split(';')) {
    const trimmed = pair.trim()
    if (trimmed === '') continue
    const equals = trimmed.indexOf('=')
    if ((equals === -1 ? trimmed : trimmed.slice(0, equals)) !== name) kept.push(trimmed)
  }
  return kept.length === 0 ? undefined : kept.join('; ')
}

describe('withoutCookie', () => {
  it('drops every pair named exactly `name`, keeps the others in order', () => {
    expect(withoutCookie('sid=c1; latch=abc', 'latch')).toBe('sid=c1')
    expect(withoutCookie('latch=abc; sid=c1', 'latch')).toBe('sid=c1')
    expect(withoutCookie('a=1; latch=x; b=2; latch=y', 'latch')).toBe('a=1; b=2')
    expect(withoutCookie('latch=abc', 'latch')).toBeUndefined()
    expect(withoutCookie('latchy=1; xlatch=2; latch', 'latch')).toBe('latchy=1; xlatch=2')
    expect(withoutCookie('  a=1 ;;\tlatch=z ;  b = 2  ', 'latch')).toBe('a=1; b = 2')
    expect(withoutCookie('latch =x; a=1', 'latch')).toBe('latch =x; a=1')
  })

  it('matches the split/trim/join definition on generated headers', () => {
    const parts = ['latch=v', 'latch', 'latch=', 'latchx=1', 'xlatch=2', 'a=1', 'b=', '=c', ' ', '', '\t', '\xa0latch=n', 'lat=ch', 'latch =s', 'sid=c1', 'latch=a=b']
    const separators = [';', '; ', ' ;', ';;', ' ; ']
    let seed = 7
    const random = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
    for (let i = 0; i < 5000; i++) {
      const count = 1 + random(5)
      let header = parts[random(parts.length)] as string
      for (let k = 1; k < count; k++) header += (separators[random(separators.length)] as string) + (parts[random(parts.length)] as string)
      expect(withoutCookie(header, 'latch'), JSON.stringify(header)).toBe(reference(header, 'latch'))
    }
  })
})

describe('readCookie', () => {
  it('finds a cookie at pair boundaries only and counts duplicates', () => {
    expect(readCookie('sid=c1; latch=abc', 'latch')).toEqual({ value: 'abc', count: 1 })
    expect(readCookie('xlatch=1; latchy=2', 'latch')).toEqual({ value: undefined, count: 0 })
    expect(readCookie('latch=a; latch=b', 'latch')).toEqual({ value: 'a', count: 2 })
    expect(readCookie(undefined, 'latch').count).toBe(0)
  })
})
