import { describe, expect, it } from 'vitest'
import { HeaderEdit } from '../../../../src/proxying/filters/header-edit.js'
import type { HeaderModifier } from '../../../../src/routing/route-action.js'

const edit = (modifier: Partial<HeaderModifier>): HeaderEdit => new HeaderEdit({ set: [], add: [], remove: [], ...modifier })

/** Cases of the conformance test HTTPRouteRequestHeaderModifier (and the response one, which has the same table). */
describe('HeaderEdit (HTTPRouteRequestHeaderModifier / HTTPRouteResponseHeaderModifier semantics)', () => {
  it('set adds a header that is absent and overwrites every value of one that is present', () => {
    const set = edit({ set: [['X-Header-Set', 'set-overwrites-values']] })
    expect(set.apply(['Some-Other-Header', 'val'], 0)).toEqual(['Some-Other-Header', 'val', 'X-Header-Set', 'set-overwrites-values'])
    expect(set.apply(['x-header-set', 'a', 'Some-Other-Header', 'val', 'X-HEADER-SET', 'b'], 0)).toEqual(['x-header-set', 'set-overwrites-values', 'Some-Other-Header', 'val'])
  })

  it('add appends to the existing value with a comma, or adds the header', () => {
    const add = edit({ add: [['X-Header-Add', 'add-appends-values']] })
    expect(add.apply(['Some-Other-Header', 'val'], 0)).toEqual(['Some-Other-Header', 'val', 'X-Header-Add', 'add-appends-values'])
    expect(add.apply(['x-header-add', 'some-other-value'], 0)).toEqual(['x-header-add', 'some-other-value,add-appends-values'])
  })

  it('add never comma-joins Set-Cookie', () => {
    expect(edit({ add: [['Set-Cookie', 'b=2']] }).apply(['set-cookie', 'a=1'], 0)).toEqual(['set-cookie', 'a=1', 'Set-Cookie', 'b=2'])
  })

  it('remove drops every occurrence, whatever its case', () => {
    expect(edit({ remove: ['X-Header-Remove'] }).apply(['x-header-remove', 'a', 'keep', '1', 'X-HEADER-REMOVE', 'b'], 0)).toEqual(['keep', '1'])
  })

  it('applies the "multiple" case: set, add and remove together', () => {
    const multiple = edit({
      set: [['X-Header-Set-1', 'header-set-1'], ['X-Header-Set-2', 'header-set-2']],
      add: [['X-Header-Add-1', 'header-add-1'], ['X-Header-Add-2', 'header-add-2'], ['X-Header-Add-3', 'header-add-3']],
      remove: ['X-Header-Remove-1', 'X-Header-Remove-2'],
    })
    const out = multiple.apply(['X-Header-Set-2', 'set-val-2', 'X-Header-Add-2', 'add-val-2', 'X-Header-Remove-2', 'remove-val-2', 'Another-Header', 'another-header-val'], 0)
    const asMap = Object.fromEntries(out.flatMap((value, i) => (i % 2 === 0 ? [[value.toLowerCase(), out[i + 1]]] : [])))
    expect(asMap).toEqual({
      'x-header-set-1': 'header-set-1',
      'x-header-set-2': 'header-set-2',
      'x-header-add-1': 'header-add-1',
      'x-header-add-2': 'add-val-2,header-add-2',
      'x-header-add-3': 'header-add-3',
      'another-header': 'another-header-val',
    })
  })

  it('leaves entries before `from` alone (the Host pair of an upstream request)', () => {
    expect(edit({ remove: ['host', 'x'], set: [['x', '2']] }).apply(['host', 'a', 'x', '1'], 2)).toEqual(['host', 'a'])
    expect(edit({ set: [['a', '2']] }).apply(['a', '1', 'b', '1'], 2)).toEqual(['a', '1', 'b', '1', 'a', '2'])
  })

  it('never touches Host, framing or hop-by-hop headers', () => {
    const guarded = edit({ set: [['Content-Length', '0'], ['Host', 'evil']], add: [['Transfer-Encoding', 'gzip']], remove: ['connection'] })
    expect(guarded.empty).toBe(true)
    expect(guarded.apply(['content-length', '5', 'connection', 'close'], 0)).toEqual(['content-length', '5', 'connection', 'close'])
  })
})
