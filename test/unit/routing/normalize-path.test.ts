import { describe, expect, it } from 'vitest'
import { normalizePath } from '../../../src/routing/normalize-path.js'

describe('normalizePath', () => {
  it.each([
    ['/', '/'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b/'],
    ['//a///b', '/a/b'],
    ['/a/./b', '/a/b'],
    ['/a/../b', '/b'],
    ['/../../b', '/b'],
    ['/a/b/..', '/a/'],
    ['/a/%62', '/a/b'],
    ['/%7Euser', '/~user'],
    ['/a/%2e%2e/b', '/b'],
    ['/a%20b', '/a%20b'],
    ['/a%3fb', '/a%3Fb'],
  ])('canonicalises %s to %s', (input, expected) => {
    expect(normalizePath(input)).toBe(expected)
  })

  it.each(['/a%2Fb', '/a%2fb', '/a%5Cb', '/a\\b', '/a%00b', '/a%0ab', '/a%zz', '/a%4', 'a/b', '/a/..;/admin', '/a/.;/b'])('refuses the ambiguous path %s', (input) => {
    expect(normalizePath(input)).toBeUndefined()
  })
})
