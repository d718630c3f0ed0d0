/**
 * `log.accessFormat` through the real CLI: the `combined` line log tooling parses (checked with the
 * usual combined-format expression), a JSON field list with headers, query and upstream timing, and
 * a reload that switches formats. The default JSON line is covered by access-log.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { send } from '../helpers/http-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

/** The Combined Log Format as log tooling matches it (GoAccess's COMBINED, Logstash's COMBINEDAPACHELOG, minus optional parts). */
const COMBINED = /^(\S+) (\S+) (\S+) \[(\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "(\S+) (\S+) (HTTP\/\d\.\d)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$/

describe('access log formats', () => {
  let upstream: TestUpstream
  let latch: LatchProcess
  let logFile: string
  const config = (accessFormat: unknown): object => ({
    listen: '127.0.0.1:0',
    admin: { listen: false },
    shutdown: { drainDelay: '0s' },
    reload: { watch: false },
    log: { access: logFile, accessFormat },
    pools: [{ name: 'web', endpoints: [upstream.url] }],
  })
  const lines = (): string[] => readFileSync(logFile, 'latin1').split('\n').filter((line) => line !== '')
  const lineWith = (text: string): Promise<string> => waitFor(() => lines().find((line) => line.includes(text)), 5000, 20, `line with ${text}`)

  beforeAll(async () => {
    upstream = await startUpstream('u1')
    logFile = join(mkdtempSync(join(tmpdir(), 'latch-formats-')), 'access.log')
    writeFileSync(logFile, '')
    latch = await startLatch({ config: config('combined') })
  })

  afterAll(async () => {
    await latch?.stop()
    await upstream?.stop()
  })

  it('combined: the fields tooling expects, no query string, hostile header values escaped', async () => {
    await send({ port: latch.port, path: '/combined/page?token=query-s3cret', headers: { 'user-agent': 'Mozilla/5.0 "quoted" \\', referer: 'https://example.test/from', cookie: 'sid=c00kie-s3cret' } })
    const line = await lineWith('/combined/page')
    const match = COMBINED.exec(line)
    expect(match, line).not.toBeNull()
    const [, host, ident, user, , method, target, protocol, status, bytes, referer, agent] = match as RegExpExecArray
    expect({ host, ident, user, method, target, protocol, status, referer, agent }).toEqual({
      host: '127.0.0.1', ident: '-', user: '-', method: 'GET', target: '/combined/page', protocol: 'HTTP/1.1', status: '200', referer: 'https://example.test/from', agent: 'Mozilla/5.0 \\x22quoted\\x22 \\x5C',
    })
    expect(Number(bytes)).toBeGreaterThan(0)
    expect(line).not.toContain('s3cret')
  })

  it('a reload switches to a JSON field list: headers, query and upstream timing when named', async () => {
    const before = latch.logs.filter((line) => line.msg === 'config reloaded').length
    writeFileSync(latch.configFile as string, stringify(config(['method', 'path', 'query', 'status', 'userAgent', 'referer', 'header:X-Tenant', 'upstreamConnectMs', 'upstreamFirstByteMs', 'upstreamTotalMs', 'protocol'])))
    latch.child.kill('SIGHUP')
    await waitFor(() => latch.logs.filter((line) => line.msg === 'config reloaded').length > before, 5000, 20, 'reload')
    await send({ port: latch.port, path: '/fields?a=1&b=2', headers: { 'user-agent': 'curl/8', 'x-tenant': 'acme' } })
    const entry = JSON.parse(await lineWith('/fields')) as Record<string, unknown>
    expect(Object.keys(entry)).toEqual(['log', 'time', 'method', 'path', 'query', 'status', 'userAgent', 'header:x-tenant', 'upstreamConnectMs', 'upstreamFirstByteMs', 'upstreamTotalMs', 'protocol'])
    expect(entry).toMatchObject({ method: 'GET', path: '/fields', query: 'a=1&b=2', status: 200, userAgent: 'curl/8', 'header:x-tenant': 'acme', protocol: 'HTTP/1.1' })
    const [connect, firstByte, total] = [entry.upstreamConnectMs, entry.upstreamFirstByteMs, entry.upstreamTotalMs] as number[]
    expect(connect).toBeGreaterThanOrEqual(0)
    expect(firstByte).toBeGreaterThanOrEqual(connect as number)
    expect(total).toBeGreaterThanOrEqual(firstByte as number)
  })

  it('common: no referer or user agent', async () => {
    writeFileSync(latch.configFile as string, stringify(config('common')))
    const before = latch.logs.filter((line) => line.msg === 'config reloaded').length
    latch.child.kill('SIGHUP')
    await waitFor(() => latch.logs.filter((line) => line.msg === 'config reloaded').length > before, 5000, 20, 'reload')
    await send({ port: latch.port, path: '/common', headers: { 'user-agent': 'curl/8' } })
    expect(await lineWith('/common')).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET \/common HTTP\/1\.1" 200 \d+$/)
  })
})
