import { describe, expect, it } from 'vitest'
import { validateConfig } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/errors/config-error.js'

function problems(cookie: object): string[] {
  const raw = { pools: [{ name: 'web', endpoints: ['http://127.0.0.1:1'], affinity: { mode: 'cookie', cookie } }] }
  try {
    validateConfig(raw, { file: 'latch.yaml', baseDir: '.' })
    return []
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`)
  }
}

describe('__Secure- and __Host- cookie names (browsers enforce their rules)', () => {
  it('are accepted with what browsers require', () => {
    expect(problems({ name: '__Host-latch' })).toEqual([])
    expect(problems({ name: '__Secure-latch', path: '/app', domain: 'example.com', secure: 'always' })).toEqual([])
  })

  it('refuse secure: never, a __Host- cookie with another Path or a Domain, naming the key', () => {
    expect(problems({ name: '__Secure-latch', secure: 'never' })).toEqual([
      'pools[0].affinity.cookie.secure: browsers reject a __Secure- cookie without Secure — use secure: auto or always (Latch always sets Secure on it)',
    ])
    expect(problems({ name: '__host-latch', path: '/app', domain: 'example.com' })).toEqual([
      'pools[0].affinity.cookie.path: browsers reject a __Host- cookie whose Path is not "/" — use path: / or another cookie name',
      'pools[0].affinity.cookie.domain: browsers reject a __Host- cookie with a Domain — remove cookie.domain or use another cookie name',
    ])
  })
})
