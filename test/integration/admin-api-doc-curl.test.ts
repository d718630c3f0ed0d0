/**
 * The `curl` lines of docs/reference/admin-api.md, run with the real curl against a real Latch: as
 * written, except for the admin address (an ephemeral port here), the endpoint (this test's upstream
 * instead of the example's 10.0.0.5:8080, so no traffic leaves the machine) and `$ADMIN_TOKEN` (set in
 * the shell's environment). Each must answer 200 and do what the doc's routes table says. A line that
 * uses `$ADMIN_TOKEN` is the doc's "with admin.token" case and runs against a Latch that has one; the
 * others against a Latch without, as the doc shows them.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adminCall } from '../helpers/admin-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const DOC = 'docs/reference/admin-api.md'
const TEXT = readFileSync(resolve(import.meta.dirname, '../..', DOC), 'utf8')
/** What the doc's lines name, replaced by what this test started. */
const DOC_ADMIN = '127.0.0.1:9901'
const DOC_ENDPOINT = '10.0.0.5:8080'
const TOKEN = 'doc-example-admin-token-0123456789'

/** Every line of the doc's ```sh blocks that runs curl, without its trailing comment. */
function curlLines(): string[] {
  const blocks = [...TEXT.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string)
  return blocks
    .flatMap((block) => block.split('\n'))
    .filter((line) => line.startsWith('curl '))
    .map((line) => line.replace(/\s+#.*$/, ''))
}

/** Runs `line` in /bin/sh (so quoting and `$ADMIN_TOKEN` are the shell's own) with the status code appended. */
function runLine(line: string, admin: string, endpoint: string): Promise<{ status: number; body: string }> {
  const command = `${line.replaceAll(DOC_ADMIN, admin).replaceAll(DOC_ENDPOINT, endpoint)} -w '\\n%{http_code}'`
  return new Promise((resolveRun, reject) => {
    execFile('/bin/sh', ['-c', command], { env: { ...process.env, ADMIN_TOKEN: TOKEN }, timeout: 10_000 }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`${command}: ${error.message}\n${stderr}`))
      const at = stdout.lastIndexOf('\n')
      resolveRun({ status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) })
    })
  })
}

describe(`the curl lines of ${DOC}`, () => {
  let upstream: TestUpstream
  let open: LatchProcess
  let withToken: LatchProcess
  const lines = curlLines()

  beforeAll(async () => {
    upstream = await startUpstream('web-1')
    const config = (token?: string): object => ({
      listen: '127.0.0.1:0',
      admin: { listen: '127.0.0.1:0', ...(token === undefined ? {} : { token }) },
      pools: [{ name: 'web', endpoints: [upstream.url] }],
    })
    ;[open, withToken] = await Promise.all([startLatch({ config: config() }), startLatch({ config: config(TOKEN) })])
  })

  afterAll(async () => {
    await Promise.all([open?.stop(), withToken?.stop()])
    await upstream?.stop()
  })

  it('are the three the doc shows: read the pools, drain an endpoint, reload with a token', () => {
    expect(lines).toHaveLength(3)
    expect(lines.every((line) => line.includes(DOC_ADMIN))).toBe(true)
    expect(lines.filter((line) => line.includes('$ADMIN_TOKEN'))).toHaveLength(1)
  })

  it('each answers 200 and does what the routes table says', async () => {
    const endpoint = `127.0.0.1:${upstream.port}`
    for (const line of lines) {
      const latch = line.includes('$ADMIN_TOKEN') ? withToken : open
      const admin = new URL(latch.adminUrl as string).host
      const { status, body } = await runLine(line, admin, endpoint)
      expect({ line, status }).toEqual({ line, status: 200 })
      const answer = JSON.parse(body) as Record<string, unknown>
      if (/\/pools$/.test(line)) expect((answer.pools as { name: string }[]).map((pool) => pool.name)).toEqual(['web'])
      if (line.endsWith('/drain')) {
        const pools = (await adminCall(latch, 'GET', '/pools')).body.pools as { endpoints: { id: string; adminState: string }[] }[]
        expect(pools[0]?.endpoints.find((entry) => entry.id === endpoint)?.adminState).toBe('draining')
      }
    }
    // The token line is refused without its token: it really exercised admin.token.
    const tokenLine = lines.find((line) => line.includes('$ADMIN_TOKEN')) as string
    const withoutToken = tokenLine.replace(/ -H "Authorization: Bearer \$ADMIN_TOKEN"/, '')
    expect(withoutToken).not.toBe(tokenLine)
    expect((await runLine(withoutToken, new URL(withToken.adminUrl as string).host, endpoint)).status).toBe(401)
  })
})
