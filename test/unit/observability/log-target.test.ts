import { describe, expect, it } from 'vitest'
import { loggableTarget } from '../../../src/observability/log-target.js'

describe('loggableTarget', () => {
  it('drops the query string and the fragment', () => {
    expect(loggableTarget('/a/b?token=secret')).toBe('/a/b')
    expect(loggableTarget('/a#frag?x')).toBe('/a')
    expect(loggableTarget('/a?x#y')).toBe('/a')
  })

  it('drops userinfo from absolute and authority forms, and only there', () => {
    expect(loggableTarget('http://user:secret@example.test/p?q=1')).toBe('http://example.test/p')
    expect(loggableTarget('http://u:p@ss@example.test')).toBe('http://example.test')
    expect(loggableTarget('user:secret@example.test:443')).toBe('example.test:443')
    expect(loggableTarget('http://example.test/mail@box')).toBe('http://example.test/mail@box')
    expect(loggableTarget('/users/@me')).toBe('/users/@me')
  })

  it('cuts long targets', () => {
    expect(loggableTarget(`/${'x'.repeat(500)}`)).toHaveLength(200)
  })
})
