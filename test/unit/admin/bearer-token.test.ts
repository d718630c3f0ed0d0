import { describe, expect, it } from 'vitest'
import { bearerTokenCheck } from '../../../src/admin/bearer-token.js'

describe('bearerTokenCheck', () => {
  const check = bearerTokenCheck('s3cret-token-0123456789')

  it('accepts the configured token with the Bearer scheme in any letter case', () => {
    expect(check('Bearer s3cret-token-0123456789')).toBe(true)
    expect(check('bearer s3cret-token-0123456789')).toBe(true)
  })

  it.each([
    ['a missing header', undefined],
    ['an empty header', ''],
    ['a wrong token', 'Bearer s3cret-token-0123456780'],
    ['a prefix of the token', 'Bearer s3cret'],
    ['the token with more after it', 'Bearer s3cret-token-0123456789x'],
    ['another scheme', 'Basic s3cret-token-0123456789'],
    ['the bare token', 's3cret-token-0123456789'],
    ['two tokens', 'Bearer s3cret-token-0123456789 s3cret-token-0123456789'],
  ])('refuses %s', (_what, header) => {
    expect(check(header)).toBe(false)
  })
})
