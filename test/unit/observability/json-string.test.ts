import { describe, expect, it } from 'vitest'
import { jsonString } from '../../../src/observability/json-string.js'

describe('jsonString', () => {
  it('gives plain values back quoted, unchanged', () => {
    expect(jsonString('/index.html')).toBe('"/index.html"')
    expect(jsonString('')).toBe('""')
  })

  it('escapes every UTF-16 code unit into valid JSON in ASCII that parses back to the same string', () => {
    const all = Array.from({ length: 0x10000 }, (_, code) => String.fromCharCode(code))
    const wrong = [...all, all.join(''), `a${all.slice(0, 0x100).join('')}z`].filter((value) => {
      const literal = jsonString(value)
      return !/^"[\x20-\x7e]*"$/.test(literal) || JSON.parse(literal) !== value
    })
    expect(wrong).toEqual([])
  })

  it('uses the short escapes for quotes, backslashes and common control characters', () => {
    expect(jsonString('a"b\\c\nd\re\tf\u0001\u007f\u00ff\u2028')).toBe('"a\\"b\\\\c\\nd\\re\\tf\\u0001\\u007f\\u00ff\\u2028"')
  })
})
