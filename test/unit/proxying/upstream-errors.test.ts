import { describe, expect, it } from 'vitest'
import { AttemptPhase, fromUpstreamError, isConnectFailure } from '../../../src/proxying/upstream-errors.js'

const systemError = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:80`), { code, syscall: 'connect' })

describe('fromUpstreamError', () => {
  it('makes Latch running out of a resource its own failure (503 with Retry-After), in any phase', () => {
    for (const code of ['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL']) {
      for (const phase of [AttemptPhase.Connecting, AttemptPhase.Sent, AttemptPhase.Responding]) {
        const failure = fromUpstreamError(systemError(code), phase, 'e:1')
        expect(failure).toMatchObject({ code: 'ERR_PROXY_RESOURCES', status: 503, source: 'proxy', retryAfter: 1 })
        expect(isConnectFailure(failure, phase)).toBe(false)
      }
    }
  })

  it('still blames the endpoint for its own failures', () => {
    expect(fromUpstreamError(systemError('ECONNREFUSED'), AttemptPhase.Connecting, 'e:1').code).toBe('ERR_UPSTREAM_CONNECT')
    expect(fromUpstreamError(systemError('ECONNRESET'), AttemptPhase.Responding, 'e:1').code).toBe('ERR_UPSTREAM_RESET')
  })
})
