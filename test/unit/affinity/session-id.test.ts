import { describe, expect, it } from 'vitest'
import { newSessionId } from '../../../src/affinity/session-id.js'

describe('newSessionId', () => {
  it('gives 11-character base64url ids that do not repeat, across several refills of its batch', () => {
    const ids = Array.from({ length: 5000 }, () => newSessionId())
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{11}$/)
    expect(new Set(ids).size).toBe(ids.length)
  })
})
