/**
 * Upgrades are requests like any other (issue 11 point 7): one access line when the connection closes
 * (duration, bytes each way, outcome), counted in `latch_requests_total` when the upstream answers,
 * and an endpoint that refuses the upgrade's connection counts for passive health.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall, scrapeMetrics } from '../helpers/admin-client.js'
import { accessLines, startLatch, type LatchProcess, type LogLine } from '../helpers/latch-process.js'
import { valueOf } from '../helpers/prometheus-text.js'
import { refusedUrl } from '../helpers/raw-upstream.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { openTunnel, sendAndLeave, startTunnelUpstream, upgradeHead, type TunnelUpstream } from '../helpers/upgrade-client.js'
import { waitFor } from '../helpers/wait.js'

let plain: TestUpstream
let tunnelUpstream: TunnelUpstream
let refused: string
let latch: LatchProcess
const idOf = (url: string): string => new URL(url).host

beforeAll(async () => {
  plain = await startUpstream('plain', { mode: { kind: 'status', status: 200 } })
  tunnelUpstream = await startTunnelUpstream()
  refused = await refusedUrl()
  const prefix = (path: string, pool: string): object => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      server: { tunnelIdleTimeout: '1s' },
      pools: [
        { name: 'plain', endpoints: [plain.url] },
        { name: 'tunnel', endpoints: [tunnelUpstream.url] },
        // The refused endpoint first: round-robin alternates, and only its failures make a streak.
        { name: 'mixed', endpoints: [refused, tunnelUpstream.url], retry: { attempts: 0 }, passiveHealth: { consecutiveFailures: 2, maxEjectedPercent: 100 } },
      ],
      routes: { rules: [{ http: { paths: [prefix('/echo', 'tunnel'), prefix('/quiet', 'tunnel'), prefix('/mixed', 'mixed'), prefix('/', 'plain')] } }] },
    },
  })
})

afterAll(async () => {
  await latch.stop()
  await plain.stop()
  await tunnelUpstream.stop()
})

function accessLineOf(path: string): Promise<LogLine> {
  return waitFor(() => accessLines(latch).find((line) => line.path === path), 5000, 20, `the access line of ${path}`)
}

describe('upgrades in the access log and metrics', () => {
  it('a tunnel closed by the client: one line at the close with status 101, bytes each way and the outcome', async () => {
    const tunnel = await openTunnel(latch.port, '/echo/logged', 'websocket')
    tunnel.socket.write('ping-1234')
    await waitFor(() => tunnel.received() === 'ping-1234', 5000, 20, 'the echo')
    tunnel.socket.write('x')
    await waitFor(() => tunnel.received() === 'ping-1234x', 5000, 20, 'the second echo')
    expect(accessLines(latch).find((line) => line.path === '/echo/logged'), 'no line while the tunnel is open').toBeUndefined()
    tunnel.socket.end()
    const line = await accessLineOf('/echo/logged')
    expect(line).toMatchObject({ method: 'GET', status: 101, upgrade: 'websocket', pool: 'tunnel', endpoint: idOf(tunnelUpstream.url), bytesIn: 10, bytes: 10, outcome: 'client-closed', attempts: 1 })
    expect(line.durationMs).toBeGreaterThan(0)
    expect(line.reqId).toMatch(/\S/)
  })

  it('a tunnel closed by the idle timeout, and a refused upgrade', async () => {
    const tunnel = await openTunnel(latch.port, '/quiet/logged', 'h2c')
    await tunnel.closed
    expect(await accessLineOf('/quiet/logged')).toMatchObject({ status: 101, upgrade: 'h2c', outcome: 'idle-timeout', bytesIn: 0, bytes: 0 })
    await sendAndLeave(latch.port, upgradeHead('/refused/logged', 'websocket'), 'close')
    const refusedLine = await accessLineOf('/refused/logged')
    expect(refusedLine).toMatchObject({ status: 200, upgrade: 'websocket', pool: 'plain', outcome: 'refused' })
    expect(refusedLine.bytes).toBeGreaterThan(0)
  })

  it('counts upgrades in latch_requests_total when the upstream answers', async () => {
    const count = async (): Promise<number> => valueOf((await scrapeMetrics(latch)).families, 'latch_requests_total', { pool: 'tunnel', endpoint: idOf(tunnelUpstream.url), class: '1xx', code: '101' }) ?? 0
    const before = await count()
    const tunnel = await openTunnel(latch.port, '/echo/counted', 'websocket')
    // Counted while the tunnel is still open.
    await waitFor(async () => (await count()) === before + 1, 5000, 50, 'the 101 to be counted')
    tunnel.socket.destroy()
  })
})

describe('passive health', () => {
  it('an endpoint that refuses the connections of upgrades is ejected', async () => {
    for (let i = 0; i < 4; i++) {
      const answer = await sendAndLeave(latch.port, upgradeHead('/mixed/ws', 'websocket'), 'reset-on-answer')
      expect(answer).toMatch(/^HTTP\/1\.1 (101|502) /)
    }
    const reply = await adminCall(latch, 'GET', '/pools')
    const mixed = (reply.body.pools as { name: string; endpoints: { id: string; state: string; ejections: number; errors: Record<string, number> }[] }[]).find((pool) => pool.name === 'mixed')
    const dead = mixed?.endpoints.find((endpoint) => endpoint.id === idOf(refused))
    expect(dead).toMatchObject({ state: 'unhealthy', ejections: 1, errors: { ERR_UPSTREAM_CONNECT: 2 } })
    const line = await waitFor(() => accessLines(latch).find((entry) => entry.path === '/mixed/ws' && entry.status === 502), 5000, 20, 'the access line of a 502')
    expect(line).toMatchObject({ code: 'ERR_UPSTREAM_CONNECT', endpoint: idOf(refused), outcome: 'refused' })
  })
})
