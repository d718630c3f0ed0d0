/**
 * The access log as a user meets it: every documented field, hostile values escaped, one valid JSON
 * object per line, nothing secret by default, and no line lost when Latch is stopped right after traffic.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { request, Agent } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { rawRequest } from '../helpers/raw-http.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

const PIPELINE_DOC = readFileSync(resolve(import.meta.dirname, '../../docs/concepts/request-pipeline.md'), 'utf8')

/** The access-line fields docs/concepts/request-pipeline.md documents (its "Log" step), in its order. */
function documentedFields(): string[] {
  const start = PIPELINE_DOC.indexOf('**Log.** When the response is finished')
  const paragraph = PIPELINE_DOC.slice(start, PIPELINE_DOC.indexOf('(the', start))
  return [...paragraph.matchAll(/`(\w+)`/g)].map((match) => match[1] as string)
}

/** Secrets sent in every request of the secrets test; none may appear in the log. */
const SECRETS = ['c00kie-s3cret', 'auth-s3cret', 'proxy-auth-s3cret', 'query-s3cret', 'userinfo-s3cret', 'frag-s3cret']

describe('access log', () => {
  let upstream: TestUpstream
  let latch: LatchProcess
  let logFile: string

  beforeAll(async () => {
    upstream = await startUpstream('u1')
    logFile = join(mkdtempSync(join(tmpdir(), 'latch-access-')), 'logs', 'access.log')
    latch = await startLatch({
      config: {
        listen: '127.0.0.1:0',
        log: { level: 'info', access: logFile },
        pools: [
          { name: 'web', endpoints: [upstream.url], affinity: { mode: 'cookie' } },
          // A closed port: every request fails, so its line carries `code`.
          { name: 'down', endpoints: ['http://127.0.0.1:1'], affinity: { mode: 'cookie' }, retry: { attempts: 0 } },
        ],
        routes: {
          rules: [
            {
              http: {
                paths: [
                  { path: '/down', pathType: 'Prefix', backend: { service: { name: 'down' } } },
                  { path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } },
                ],
              },
            },
          ],
        },
      },
    })
  })

  afterAll(async () => {
    await latch?.stop()
    await upstream?.stop()
  })

  /** The raw lines of the access-log file so far. */
  const rawLines = (): string[] => readFileSync(logFile, 'latin1').split('\n').filter((line) => line !== '')

  /** Waits until a line whose path passes `pick` is in the file; returns it raw. */
  const lineFor = (pick: (path: string) => boolean): Promise<string> =>
    waitFor(() => rawLines().find((line) => pick((JSON.parse(line) as { path: string }).path)), 5000, 20, 'access line')

  it('has every documented field, in the documented order, plus log and time', async () => {
    const fields = documentedFields()
    expect(fields).toEqual(['reqId', 'method', 'host', 'path', 'status', 'durationMs', 'bytes', 'route', 'pool', 'endpoint', 'attempts', 'code', 'clientIp', 'affinity'])
    expect((await rawRequest(latch.port, 'GET /fields HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n')).status).toBe(200)
    expect((await rawRequest(latch.port, 'GET /down/fields HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n')).status).toBe(502)
    const ok = JSON.parse(await lineFor((path) => path === '/fields')) as Record<string, unknown>
    const failed = JSON.parse(await lineFor((path) => path === '/down/fields')) as Record<string, unknown>
    // A successful request has no `code`; a failed one has every field.
    expect(Object.keys(ok)).toEqual(['log', 'time', ...fields.filter((field) => field !== 'code')])
    expect(Object.keys(failed)).toEqual(['log', 'time', ...fields])
    expect(ok).toMatchObject({ log: 'access', method: 'GET', host: 'example.test', path: '/fields', status: 200, pool: 'web', endpoint: upstream.url.replace('http://', ''), attempts: 1, clientIp: '127.0.0.1', affinity: 'new' })
    expect(new Date(ok.time as string).toISOString()).toBe(ok.time)
    expect(typeof ok.reqId).toBe('string')
    expect(ok.durationMs).toBeGreaterThan(0)
    expect(ok.bytes).toBeGreaterThan(0)
    expect(typeof ok.route).toBe('string')
    expect(failed).toMatchObject({ status: 502, pool: 'down', code: expect.stringMatching(/^ERR_/) as unknown })
  })

  it('escapes hostile paths and hosts: every line is one JSON object in ASCII, the values intact', async () => {
    // Raw bytes no HTTP client would send. Node's parser refuses control characters and bytes above 0x7e in
    // the request target, but lets quotes and backslashes through; the Host value may hold a tab and bytes
    // that are not UTF-8, which Node hands over as latin1 characters.
    const path = '/hostile/"q"\\b\\"'
    const host = Buffer.concat([Buffer.from('h"o\\st\t'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x80, 0xa8, 0xc0, 0x80])])
    const head = Buffer.concat([Buffer.from(`GET ${path} HTTP/1.1\r\nHost: `), host, Buffer.from('\r\nConnection: close\r\n\r\n')])
    expect((await rawRequest(latch.port, head)).status).toBe(400)
    const line = await waitFor(() => rawLines().find((text) => text.includes('"host":"h\\"o')), 5000, 20, 'access line')
    for (const text of rawLines()) {
      expect(text).toMatch(/^[\x20-\x7e]+$/)
      expect(() => JSON.parse(text) as unknown).not.toThrow()
    }
    const entry = JSON.parse(line) as { path: string; host: string }
    expect(entry.host).toBe(host.toString('latin1'))
    expect(line).toContain('"host":"h\\"o\\\\st\\t\\u00ff\\u00fe\\u00c3(')
    // The bad Host refuses the request before its path is looked at; with a good Host the path is refused
    // (ERR_BAD_PATH) and logged as it came.
    expect((await rawRequest(latch.port, `GET ${path} HTTP/1.1\r\nHost: example.test\r\nConnection: close\r\n\r\n`)).status).toBe(400)
    const refused = JSON.parse(await lineFor((logged) => logged.startsWith('/hostile/'))) as { path: string; code: string }
    expect(refused).toMatchObject({ path, code: 'ERR_BAD_PATH' })
  })

  it('never logs cookies, credentials, query strings or fragments', async () => {
    const headers = `Cookie: sid=${SECRETS[0]}\r\nAuthorization: Basic ${SECRETS[1]}\r\nProxy-Authorization: Bearer ${SECRETS[2]}\r\nConnection: close\r\n\r\n`
    const targets = [
      `/secrets/origin?token=${SECRETS[3]}`,
      `http://user:${SECRETS[4]}@example.test/secrets/absolute?token=${SECRETS[3]}`,
      `/secrets/../../refused?token=${SECRETS[3]}`,
      `/secrets/%2e%2e/refused?token=${SECRETS[3]}#${SECRETS[5]}`,
    ]
    const before = rawLines().length
    for (const target of targets) await rawRequest(latch.port, `GET ${target} HTTP/1.1\r\nHost: example.test\r\n${headers}`)
    await waitFor(() => rawLines().length >= before + targets.length || undefined, 5000, 20, 'a line per request')
    const text = readFileSync(logFile, 'latin1')
    for (const secret of SECRETS) expect(text).not.toContain(secret)
    for (const line of rawLines()) expect(line).not.toMatch(/cookie|authorization|token=|user:/i)
  })
})

describe('access log at shutdown', () => {
  it('writes every line when Latch is stopped right after the traffic (SIGTERM)', async () => {
    const upstream = await startUpstream('u1')
    // The default target: stdout, read through a pipe, as in a container.
    const latch = await startLatch({ config: { listen: '127.0.0.1:0', log: { level: 'info' }, pools: [{ name: 'web', endpoints: [upstream.url] }] } })
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: 16 })
      const total = 3000
      let sent = 0
      const one = (): Promise<void> =>
        new Promise((done, fail) => {
          const req = request({ host: '127.0.0.1', port: latch.port, path: `/shutdown/${sent++}`, agent }, (res) => {
            res.resume()
            res.on('end', () => done())
          })
          req.on('error', fail)
          req.end()
        })
      const worker = async (): Promise<void> => {
        while (sent < total) await one()
      }
      await Promise.all(Array.from({ length: 16 }, worker))
      agent.destroy()
      expect(await latch.stop('SIGTERM')).toBe(0)
      const paths = new Set(accessLines(latch).map((line) => line.path as string).filter((path) => path.startsWith('/shutdown/')))
      expect(paths.size).toBe(total)
      expect(latch.logs.filter((line) => line.raw !== undefined)).toEqual([])
    } finally {
      await latch.stop('SIGKILL')
      await upstream.stop()
    }
  })
})
