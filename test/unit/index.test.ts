import { writeFileSync } from 'node:fs'
import { PassThrough } from 'node:stream'
import { request } from 'undici'
import { stringify } from 'yaml'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError, loadConfig, startLatch, StartupError, type ConfigInput, type Latch } from '../../src/index.js'
import { writeConfig } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

// The embedding API in this process, against real upstreams on loopback ports.

const silent = { logLevel: 'silent' } as const
const configFor = (...upstreams: TestUpstream[]): ConfigInput => ({
  listen: '127.0.0.1:0',
  admin: { listen: false },
  log: { access: 'off' },
  pools: [{ name: 'app', endpoints: upstreams.map((upstream) => upstream.url) }],
})

describe('the embedding API', () => {
  let a: TestUpstream
  let b: TestUpstream
  const running: Latch[] = []
  const start = async (...args: Parameters<typeof startLatch>): Promise<Latch> => {
    const latch = await startLatch(...args)
    running.push(latch)
    return latch
  }
  const get = async (latch: Latch, path = '/'): Promise<{ status: number; upstream: unknown }> => {
    const response = await request(`http://127.0.0.1:${latch.addresses[0]?.port}${path}`)
    await response.body.dump()
    return { status: response.statusCode, upstream: response.headers['x-upstream'] }
  }

  beforeAll(async () => {
    ;[a, b] = await Promise.all([startUpstream('a'), startUpstream('b')])
  })
  afterEach(async () => {
    await Promise.all(running.splice(0).map((latch) => latch.close()))
  })
  afterAll(async () => {
    await Promise.all([a.stop(), b.stop()])
  })

  it('loadConfig reports every problem of a config object under its label, in the house style', () => {
    const mistaken = { listen: '127.0.0.1:0', pools: [{ name: 'app', endpoints: ['not a url'], balance: 'roundrobin' }] } as unknown as ConfigInput
    let error: unknown
    try {
      loadConfig(mistaken, { label: 'dev-server.config' })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    const { code, issues } = error as ConfigError
    expect(code).toBe('CONFIG_INVALID')
    expect(issues.map((issue) => `${issue.file}: ${issue.path}`).sort()).toEqual(['dev-server.config: pools[0].balance', 'dev-server.config: pools[0].endpoints[0].url'])
    for (const line of (error as ConfigError).message.split('\n')) expect(line).toMatch(/^dev-server\.config: pools\[0\]\.(balance|endpoints\[0\]\.url): \S/)
  })

  it('serves a config object, reports its bound port and pools, and takes a new config on reload', async () => {
    const latch = await start(configFor(a), silent)
    expect(latch.addresses).toEqual([{ host: '127.0.0.1', port: expect.any(Number) }])
    expect(latch.addresses[0]?.port).not.toBe(0)
    expect(latch.adminAddress).toBeUndefined()
    expect(await get(latch)).toEqual({ status: 200, upstream: 'a' })
    expect(latch.pools()).toMatchObject([{ name: 'app', endpoints: [{ id: `127.0.0.1:${a.port}`, state: 'healthy', total: 1 }] }])

    const outcome = await latch.reload(configFor(b))
    expect(outcome).toMatchObject({ ok: true })
    expect(await get(latch)).toEqual({ status: 200, upstream: 'b' })
  })

  it('refuses an invalid config on reload and keeps serving the running one', async () => {
    const latch = await start(configFor(a), silent)
    const outcome = await latch.reload({ ...configFor(a), pools: [] })
    expect(outcome).toMatchObject({ ok: false, code: 'CONFIG_INVALID', issues: [{ file: 'config', path: 'pools', message: 'expected at least one pool' }] })
    expect(outcome.ok ? '' : outcome.message).toMatch(/^config rejected, the previous config keeps serving:\nconfig: pools: expected at least one pool/)
    expect(await get(latch)).toEqual({ status: 200, upstream: 'a' })
    expect(await latch.reload()).toMatchObject({ ok: false, code: 'NO_CONFIG_FILE', message: 'this proxy was started from a config object: pass the new config to reload()' })
  })

  it('started from a file, reload() reads the file again', async () => {
    const file = writeConfig(configFor(a))
    const latch = await start(file, silent)
    expect(await get(latch)).toEqual({ status: 200, upstream: 'a' })
    writeFileSync(file, stringify({ ...configFor(b), reload: { watch: false } }))
    expect(await latch.reload()).toMatchObject({ ok: true })
    expect(await get(latch)).toEqual({ status: 200, upstream: 'b' })
  })

  it('starts a config loadConfig returned, and logs where it is told', async () => {
    const loaded = loadConfig(configFor(a))
    expect(loaded).toMatchObject({ file: 'config', warnings: [] })
    expect(loaded.config.shutdown).toEqual({ drainDelay: 5000, drainTimeout: 20_000 })
    const lines: string[] = []
    const destination = new PassThrough().on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter((line) => line !== '')))
    const latch = await start(loaded, { logLevel: 'info', logDestination: destination })
    expect(await get(latch)).toMatchObject({ status: 200 })
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain('latch is serving')
  })

  it('drains an endpoint, and refuses an unknown one', async () => {
    const latch = await start(configFor(a, b), silent)
    expect(latch.endpointAction('app', `127.0.0.1:${b.port}`, 'drain')).toMatchObject({ id: `127.0.0.1:${b.port}`, adminState: 'draining', state: 'draining' })
    for (let i = 0; i < 4; i++) expect(await get(latch)).toEqual({ status: 200, upstream: 'a' })
    expect(() => latch.endpointAction('app', '127.0.0.1:1', 'drain')).toThrow(/pool "app" has no endpoint "127.0.0.1:1"/)
    expect(() => latch.endpointAction('nope', `127.0.0.1:${a.port}`, 'drain')).toThrow(/no pool named "nope"/)
  })

  it('drain() stops accepting and resolves once drained; close() after it waits for it', async () => {
    const latch = await start(configFor(a), silent)
    const port = latch.addresses[0]?.port
    expect(await get(latch)).toMatchObject({ status: 200 })
    const drained = latch.drain({ drainDelay: 0, drainTimeout: 2000 })
    await latch.close()
    expect(await drained).toBe('drained')
    await expect(request(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })

  it('rejects with a StartupError when a listener cannot be bound', async () => {
    const first = await start(configFor(a), silent)
    const taken = `127.0.0.1:${first.addresses[0]?.port}`
    await expect(startLatch({ ...configFor(a), listen: taken }, silent)).rejects.toBeInstanceOf(StartupError)
  })
})
