/**
 * The timeouts an accepted tunnel gets from `server.tunnelIdleTimeout` and `server.tunnelHalfClosedTimeout`
 * (0 disables either); their effect on real sockets is tested through the CLI in upgrade-connections.test.ts.
 */
import { describe, expect, it } from 'vitest'
import type { ServerConfig } from '../../../src/config/schema.js'
import { tunnelTimeouts } from '../../../src/proxying/tunnel-sockets.js'

const server = (tunnelIdleTimeout: number, tunnelHalfClosedTimeout: number): ServerConfig => ({ tunnelIdleTimeout, tunnelHalfClosedTimeout }) as ServerConfig

describe('tunnelTimeouts', () => {
  it('a half-closed tunnel gets the shorter of the two', () => {
    expect(tunnelTimeouts(server(3_600_000, 30_000))).toEqual({ idle: 3_600_000, halfClosed: 30_000 })
    expect(tunnelTimeouts(server(10_000, 30_000))).toEqual({ idle: 10_000, halfClosed: 10_000 })
  })

  it('0 disables either timeout, and the other one still applies', () => {
    expect(tunnelTimeouts(server(0, 30_000))).toEqual({ idle: 0, halfClosed: 30_000 })
    expect(tunnelTimeouts(server(3_600_000, 0))).toEqual({ idle: 3_600_000, halfClosed: 3_600_000 })
    expect(tunnelTimeouts(server(0, 0))).toEqual({ idle: 0, halfClosed: 0 })
  })
})
