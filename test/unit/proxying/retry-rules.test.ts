import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { noSession, type SessionLookup } from '../../../src/affinity/session-affinity.js'
import { ProxyError, type ErrorCode } from '../../../src/errors/proxy-error.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import { failureKind, isRetryableFailure, isRetryableStatus, isRetryableTimeout, isRetryableUpgradeFailure, sessionMustStay, untriedEndpointLeft } from '../../../src/proxying/retry-rules.js'
import { AttemptPhase } from '../../../src/proxying/upstream-errors.js'

const failure = (code: ErrorCode): ProxyError => new ProxyError(code, code)
const { Connecting, Sent, Responding } = AttemptPhase

describe('failureKind (passive health)', () => {
  it('maps the endpoint\'s failures to connect, timeout and reset, and nothing else', () => {
    expect(['ERR_UPSTREAM_CONNECT', 'ERR_UPSTREAM_TLS', 'ERR_UPSTREAM_TIMEOUT', 'ERR_UPSTREAM_RESET', 'ERR_UPSTREAM_RESPONSE'].map((code) => failureKind(code as ErrorCode))).toEqual(['connect', 'connect', 'timeout', 'reset', 'reset'])
    for (const code of ['ERR_PROXY_RESOURCES', 'ERR_CLIENT_ABORTED', 'ERR_BODY_TOO_LARGE', 'ERR_QUEUE_FULL'] as const) expect(failureKind(code), code).toBeUndefined()
  })
})

describe('isRetryableTimeout (a route\'s timeouts.backendRequest under its retry)', () => {
  it('retries an attempt stopped after sending only for a safe bodiless method, like a reset', () => {
    expect(isRetryableTimeout(failure('ERR_UPSTREAM_TIMEOUT'), Sent, 'GET', null)).toBe(true)
    expect(isRetryableTimeout(failure('ERR_UPSTREAM_TIMEOUT'), Sent, 'POST', null)).toBe(false)
    expect(isRetryableTimeout(failure('ERR_UPSTREAM_TIMEOUT'), Sent, 'GET', Buffer.from('x'))).toBe(false)
    expect(isRetryableTimeout(failure('ERR_UPSTREAM_TIMEOUT'), Responding, 'GET', null)).toBe(false)
    expect(isRetryableTimeout(failure('ERR_UPSTREAM_RESET'), Sent, 'GET', null)).toBe(false)
  })
})

describe('isRetryableFailure', () => {
  it('retries a failure before anything was sent for any method, a body read whole included', () => {
    for (const code of ['ERR_UPSTREAM_CONNECT', 'ERR_UPSTREAM_TIMEOUT', 'ERR_UPSTREAM_TLS', 'ERR_PROXY_RESOURCES'] as const) {
      expect(isRetryableFailure(failure(code), Connecting, 'POST', Buffer.from('x')), code).toBe(true)
      expect(isRetryableFailure(failure(code), Connecting, 'GET', null), code).toBe(true)
    }
  })

  it('retries a reset after sending only for a safe bodiless method', () => {
    expect(isRetryableFailure(failure('ERR_UPSTREAM_RESET'), Sent, 'GET', null)).toBe(true)
    expect(isRetryableFailure(failure('ERR_UPSTREAM_RESET'), Sent, 'POST', null)).toBe(false)
    expect(isRetryableFailure(failure('ERR_UPSTREAM_RESET'), Sent, 'GET', Buffer.from('x'))).toBe(false)
    expect(isRetryableFailure(failure('ERR_UPSTREAM_TIMEOUT'), Sent, 'GET', null)).toBe(false)
  })

  it('never retries once the response started, nor a streamed body that was read', () => {
    expect(isRetryableFailure(failure('ERR_UPSTREAM_RESET'), Responding, 'GET', null)).toBe(false)
    const started = Readable.from(['a'])
    started.read()
    expect(started.readableDidRead).toBe(true)
    expect(isRetryableFailure(failure('ERR_UPSTREAM_CONNECT'), Connecting, 'PUT', started)).toBe(false)
    expect(isRetryableFailure(failure('ERR_UPSTREAM_CONNECT'), Connecting, 'PUT', Readable.from(['a']))).toBe(true)
  })
})

describe('isRetryableUpgradeFailure', () => {
  it('retries an upgrade only when its connection was never made', () => {
    for (const code of ['ERR_UPSTREAM_CONNECT', 'ERR_UPSTREAM_TIMEOUT', 'ERR_UPSTREAM_TLS', 'ERR_PROXY_RESOURCES'] as const) {
      expect(isRetryableUpgradeFailure(failure(code), AttemptPhase.Connecting), code).toBe(true)
      expect(isRetryableUpgradeFailure(failure(code), AttemptPhase.Sent), `${code} after the connect`).toBe(false)
    }
  })

  it('never retries a reset or an invalid answer, even of a safe bodiless handshake', () => {
    for (const code of ['ERR_UPSTREAM_RESET', 'ERR_UPSTREAM_RESPONSE'] as const) {
      expect(isRetryableUpgradeFailure(failure(code), AttemptPhase.Sent), code).toBe(false)
      expect(isRetryableUpgradeFailure(failure(code), AttemptPhase.Connecting), code).toBe(false)
    }
  })
})

describe('isRetryableStatus', () => {
  it('retries a listed status for safe bodiless methods only', () => {
    expect(isRetryableStatus(503, [502, 503], 'GET', false)).toBe(true)
    expect(isRetryableStatus(500, [502, 503], 'GET', false)).toBe(false)
    expect(isRetryableStatus(503, [], 'GET', false)).toBe(false)
    expect(isRetryableStatus(503, [503], 'POST', false)).toBe(false)
    expect(isRetryableStatus(503, [503], 'GET', true)).toBe(false)
  })
})

describe('untriedEndpointLeft', () => {
  const [a, b, c] = [{}, {}, {}] as Endpoint[] as [Endpoint, Endpoint, Endpoint]
  const pool = (usable: readonly Endpoint[]): { endpoints: readonly Endpoint[]; isUsable(endpoint: Endpoint): boolean } => ({ endpoints: [a, b, c], isUsable: (endpoint) => usable.includes(endpoint) })

  it('finds a usable endpoint other than the current one that was not tried', () => {
    expect(untriedEndpointLeft(pool([a, b, c]), a, undefined)).toBe(true)
    expect(untriedEndpointLeft(pool([a, b, c]), a, [b])).toBe(true)
    expect(untriedEndpointLeft(pool([a, b, c]), a, [b, c])).toBe(false)
    expect(untriedEndpointLeft(pool([a, b]), a, [b])).toBe(false)
    expect(untriedEndpointLeft(pool([a]), a, undefined)).toBe(false)
  })
})

describe('sessionMustStay', () => {
  const bound: SessionLookup = noSession(true)
  it('keeps only a bound (hit) session of an onUnavailable: fail pool on its endpoint', () => {
    expect(sessionMustStay(bound, 'hit', 'fail')).toBe(true)
    expect(sessionMustStay(bound, 'hit', 'rebind')).toBe(false)
    expect(sessionMustStay(bound, 'new', 'fail')).toBe(false)
    expect(sessionMustStay(noSession(false), 'hit', 'fail')).toBe(false)
    expect(sessionMustStay(undefined, undefined, 'fail')).toBe(false)
  })
})
