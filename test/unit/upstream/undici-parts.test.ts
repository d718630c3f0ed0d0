import * as undici from 'undici'
import { describe, expect, it } from 'vitest'
import { buildConnector, loadUndici, Pool } from '../../../src/upstream/undici-parts.js'

// undici-parts.ts requires undici's files by path to leave fetch, WebSocket, caches and mocks
// unloaded; an undici release that moves or renames them must fail here, not in production.
describe('undici parts', () => {
  it('are the very classes and functions undici exports', () => {
    expect(Pool).toBe(undici.Pool)
    expect(buildConnector).toBe(undici.buildConnector)
    expect(loadUndici().Agent).toBe(undici.Agent)
  })
})
