import { describe, expect, it } from 'vitest'
import { modifyPath, splitTarget } from '../../../../src/proxying/filters/path-modifier.js'

const prefix = (value: string) => ({ type: 'ReplacePrefixMatch', value }) as const

describe('modifyPath', () => {
  // The table in apis/v1/httproute_types.go (HTTPPathModifier.ReplacePrefixMatch), row by row.
  it.each([
    ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
    ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
    ['/foo', '/foo', '/xyz', '/xyz'],
    ['/foo/', '/foo', '/xyz', '/xyz/'],
    ['/foo/bar', '/foo', '', '/bar'],
    ['/foo/', '/foo', '', '/'],
    ['/foo', '/foo', '', '/'],
    ['/foo/', '/foo', '/', '/'],
    ['/foo', '/foo', '/', '/'],
  ])('ReplacePrefixMatch: %s with prefix %s and replacement "%s" → %s', (path, matched, replacement, expected) => {
    expect(modifyPath(path, matched, prefix(replacement))).toBe(expected)
  })

  it('follows the conformance test HTTPRouteRewritePath', () => {
    expect(modifyPath('/prefix/one/two', '/prefix/one', prefix('/one'))).toBe('/one/two')
    expect(modifyPath('/strip-prefix/three', '/strip-prefix', prefix('/'))).toBe('/three')
    expect(modifyPath('/strip-prefix', '/strip-prefix', prefix('/'))).toBe('/')
    expect(modifyPath('/full/one/two', '/full/one', { type: 'ReplaceFullPath', value: '/one' })).toBe('/one')
  })

  it('prefixes the whole path under a "/" prefix', () => {
    expect(modifyPath('/abc', '/', prefix('/xyz'))).toBe('/xyz/abc')
  })

  it('leaves the path alone for ReplacePrefixMatch without a matched prefix (Exact or regex rule)', () => {
    expect(modifyPath('/a/b', undefined, prefix('/x'))).toBe('/a/b')
  })

  it('splits a target at its query', () => {
    expect(splitTarget('/a?b=1?c')).toEqual(['/a', '?b=1?c'])
    expect(splitTarget('/a')).toEqual(['/a', ''])
  })
})
