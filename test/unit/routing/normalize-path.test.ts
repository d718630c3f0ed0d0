import { describe, expect, it } from 'vitest'
import { normalizePath } from '../../../src/routing/normalize-path.js'

const CANONICAL: readonly [string, string][] = [
  ['/', '/'],
  ['/a/b', '/a/b'],
  ['/a/b/', '/a/b/'],
  ['//a///b', '/a/b'],
  ['//', '/'],
  ['/a/./b', '/a/b'],
  ['/a/.', '/a/'],
  ['/./', '/'],
  ['/a/../b', '/b'],
  ['/../../b', '/b'],
  ['/..', '/'],
  ['/a/b/../../..', '/'],
  ['/a/b/..', '/a/'],
  ['/a/%62', '/a/b'],
  ['/%7Euser', '/~user'],
  ['/a/%2e%2e/b', '/b'],
  ['/a/%2E%2e/b', '/b'],
  ['/a/%2e/b', '/a/b'],
  ['/a/b/%2e%2e', '/a/'],
  ['/%2e%2e/%2E%2E/etc', '/etc'],
  ['/public/../admin', '/admin'],
  ['/public/%2e%2e/admin', '/admin'],
  ['//admin', '/admin'],
  ['/a./b', '/a./b'],
  ['/a..b/c', '/a..b/c'],
  ['/a%20b', '/a%20b'],
  ['/a%3fb', '/a%3Fb'],
  ['/a%c3%a9', '/a%C3%A9'],
  ['/a;b/c', '/a;b/c'],
  ['/a:b@c!$&\'()*+,=', '/a:b@c!$&\'()*+,='],
]

describe('normalizePath', () => {
  it.each(CANONICAL)('canonicalises %s to %s', (input, expected) => {
    expect(normalizePath(input)).toBe(expected)
  })

  it.each(CANONICAL)('is idempotent on %s', (input) => {
    const once = normalizePath(input) as string
    expect(normalizePath(once)).toBe(once)
  })

  it.each([
    '/a%2Fb', '/a%2fb', '/public%2F..%2Fadmin', '/public/%2e%2e%2fadmin', '/a%5Cb', '/a%5cb', '/a\\b', '/public\\..\\admin',
    '/a%00b', '/a%0ab', '/a%0D%0Ab', '/a%7f', '/a%1F', '/a\u0000b', '/a\tb', '/a%zz', '/a%4', '/a%', '/a%%32%66',
    'a/b', '', '*', 'http://x/a', '/a/..;/admin', '/public/..;/admin', '/a/.;/b', '/a/%2e%2e;/b', '/a/%2E;x/b', '/a/..;jsessionid=1',
  ])('refuses the ambiguous path %j', (input) => {
    expect(normalizePath(input)).toBeUndefined()
  })
})
