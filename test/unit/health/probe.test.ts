import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Agent } from 'undici'
import { BODY_MATCH_LIMIT, compileProbe, compileStatuses, probeTarget, runProbe } from '../../../src/health/probe.js'
import type { ActiveHealthCheckConfig } from '../../../src/config/schema.js'
import { Endpoint } from '../../../src/upstream/endpoint.js'
import { poolConfig } from '../upstream/pool-fixtures.js'
import { startProbeServer, type ProbeServer } from './probe-server.js'

function checkConfig(check: Record<string, unknown>): ActiveHealthCheckConfig {
  return poolConfig({ healthCheck: { path: '/healthz', ...check } }).healthCheck as ActiveHealthCheckConfig
}

describe('compileStatuses', () => {
  it('accepts single statuses and inclusive ranges, nothing else', () => {
    const ok = compileStatuses(['204', '300-302'])
    expect([204, 300, 301, 302].map(ok)).toEqual([true, true, true, true])
    expect([200, 203, 205, 299, 303, 503].map(ok)).toEqual([false, false, false, false, false, false])
  })

  it('defaults to 200-399 through the schema', () => {
    const ok = compileProbe(checkConfig({})).statusOk
    expect([200, 204, 302, 399].every(ok)).toBe(true)
    expect([199, 400, 404, 500, 503].some(ok)).toBe(false)
  })
})

describe('runProbe against a real server', () => {
  let server: ProbeServer
  let agent: Agent

  beforeAll(async () => {
    server = await startProbeServer()
    agent = new Agent()
  })
  afterAll(async () => {
    await agent.destroy()
    await server.close()
  })
  beforeEach(() => {
    server.answer = () => ({ status: 200 })
  })

  const endpointFor = (url: string) => new Endpoint({ url, weight: 1 }, poolConfig({}), 'static', false)
  const probe = (check: Record<string, unknown>, url = server.url) => {
    const spec = compileProbe(checkConfig(check))
    return runProbe(agent, spec, probeTarget(spec, endpointFor(url)), new AbortController())
  }

  it('sends the method to the path with the endpoint authority as Host and closes the connection', async () => {
    const result = await probe({ path: '/ready?deep=1', method: 'HEAD' })
    expect(result).toMatchObject({ ok: true, status: 200 })
    expect(result.error).toBeUndefined()
    const seen = server.probes.at(-1)
    expect(seen).toMatchObject({ method: 'HEAD', url: '/ready?deep=1' })
    expect(seen?.headers.host).toBe(`127.0.0.1:${server.port}`)
    expect(seen?.headers.connection).toBe('close')
  })

  it('sends the configured Host header', async () => {
    await probe({ host: 'health.internal' })
    expect(server.probes.at(-1)?.headers.host).toBe('health.internal')
  })

  it('probes the configured port instead of the endpoint\'s own', async () => {
    const other = await startProbeServer()
    try {
      other.answer = () => ({ status: 503 })
      const result = await probe({ port: other.port }, 'http://127.0.0.1:1')
      expect(result).toMatchObject({ ok: false, status: 503, error: 'status 503' })
      expect(other.probes).toHaveLength(1)
      // The Host header still names the endpoint itself.
      expect(other.probes[0]?.headers.host).toBe('127.0.0.1:1')
    } finally {
      await other.close()
    }
  })

  it('judges the status by expectedStatuses', async () => {
    server.answer = () => ({ status: 204, body: '' })
    expect((await probe({ expectedStatuses: ['204'] })).ok).toBe(true)
    server.answer = () => ({ status: 200 })
    expect(await probe({ expectedStatuses: ['204', '300-302'] })).toMatchObject({ ok: false, status: 200, error: 'status 200' })
    server.answer = () => ({ status: 301 })
    expect((await probe({ expectedStatuses: ['204', '300-302'] })).ok).toBe(true)
  })

  it('requires bodyMatch in the body, read up to 64 KiB only', async () => {
    server.answer = () => ({ status: 200, body: 'status: ready\n' })
    expect((await probe({ bodyMatch: 'ready' })).ok).toBe(true)
    server.answer = () => ({ status: 200, body: 'status: starting\n' })
    expect(await probe({ bodyMatch: 'ready' })).toMatchObject({ ok: false, status: 200, error: 'body does not contain "ready"' })
    server.answer = () => ({ status: 200, body: `${'x'.repeat(BODY_MATCH_LIMIT)}ready` })
    expect((await probe({ bodyMatch: 'ready' })).ok).toBe(false)
    server.answer = () => ({ status: 200, body: `${'x'.repeat(BODY_MATCH_LIMIT - 5)}ready${'y'.repeat(100_000)}` })
    expect((await probe({ bodyMatch: 'ready' })).ok).toBe(true)
  })

  it('fails a probe that gets no complete answer within the timeout', async () => {
    server.answer = () => 'hang'
    const result = await probe({ timeout: '100ms' })
    expect(result).toMatchObject({ ok: false, error: 'no complete answer within 100 ms' })
    expect(result.status).toBeUndefined()
    expect(result.durationMs).toBeGreaterThanOrEqual(95)
  })

  it('fails a probe whose connection is refused or reset', async () => {
    const gone = await startProbeServer()
    await gone.close()
    expect((await probe({}, gone.url)).error).toMatch(/ECONNREFUSED/)
    server.answer = () => 'reset'
    const reset = await probe({})
    expect(reset.ok).toBe(false)
    expect(reset.error).toMatch(/UND_ERR_SOCKET|ECONNRESET/)
  })
})
