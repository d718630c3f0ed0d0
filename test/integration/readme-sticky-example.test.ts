/**
 * The README's "Sticky sessions in 60 seconds": its commands, run as written except for the ports
 * (ephemeral here, so the test can run beside others), do what the README says: `new` then `hit` on
 * one backend with a cookie jar, a new session per request without one, and `rebound` to the other
 * backend once the bound one is stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { send, type SimpleResponse } from '../helpers/http-client.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { waitFor } from '../helpers/wait.js'

const REPO = resolve(import.meta.dirname, '../..')
const README = readFileSync(resolve(REPO, 'README.md'), 'utf8')

/** The ```sh blocks of the section, in order. */
function shBlocks(): string[] {
  const start = README.indexOf('\n## Sticky sessions in 60 seconds\n')
  expect(start).toBeGreaterThan(-1)
  const section = README.slice(start, README.indexOf('\n## ', start + 1))
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] as string)
}

const children: ChildProcess[] = []
let latch: LatchProcess | undefined

afterAll(async () => {
  await latch?.stop()
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
})

/** Runs one `VAR=value … node dist/demo/run-session-app.js &` line with SESSION_APP_PORT=0; resolves with its URL. */
async function startBackendLine(line: string): Promise<{ name: string; readmePort: string; url: string; child: ChildProcess }> {
  const match = /^((?:\w+=\S+ )+)node (dist\/demo\/run-session-app\.js) &/.exec(line.trim())
  expect(match, line).not.toBeNull()
  const env = Object.fromEntries((match?.[1] as string).trim().split(' ').map((pair) => pair.split('=') as [string, string]))
  const child = spawn(process.execPath, [resolve(REPO, match?.[2] as string)], { env: { ...process.env, ...env, SESSION_APP_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.push(child)
  let output = ''
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(output)?.[1], 10_000, 50, `session app ${line}`)
  return { name: env.SESSION_APP_NAME as string, readmePort: env.SESSION_APP_PORT as string, url, child }
}

/** A cookie jar, as `curl -c jar -b jar` keeps one. */
function jarOf(): { header: () => Record<string, string>; keep: (response: SimpleResponse) => void } {
  const cookies = new Map<string, string>()
  return {
    header: () => (cookies.size === 0 ? {} : { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') }),
    keep: (response) => {
      const set = response.headers['set-cookie'] ?? []
      for (const cookie of set) {
        const [pair] = cookie.split(';')
        const at = (pair as string).indexOf('=')
        cookies.set((pair as string).slice(0, at), (pair as string).slice(at + 1))
      }
    },
  }
}

describe("README: Sticky sessions in 60 seconds", () => {
  it('runs as written and does what it says', async () => {
    const [backendsBlock, latchBlock, curlBlock] = shBlocks() as [string, string, string]
    expect(curlBlock).toContain('curl -si -c jar -b jar localhost:8080/')
    const backends = await Promise.all(backendsBlock.trim().split('\n').map(startBackendLine))
    expect(backends.map((backend) => [backend.name, backend.readmePort])).toEqual([['one', '3001'], ['two', '3002']])

    const command = latchBlock.trim()
    expect(command.startsWith('node dist/cli/main.js ')).toBe(true)
    let args = command.slice('node dist/cli/main.js '.length).split(/\s+/)
    for (const backend of backends) args = args.map((arg) => arg.replace(`http://127.0.0.1:${backend.readmePort}`, backend.url))
    expect(args.join(' ')).not.toMatch(/:300[12]\b/)
    latch = await startLatch({ args: [...args, '--listen', '127.0.0.1:0', '--access-log', 'off'] })
    const port = latch.port

    const jar = jarOf()
    const visit = async (withJar: boolean): Promise<SimpleResponse> => {
      const response = await send({ port, path: '/', headers: withJar ? jar.header() : {} })
      if (withJar) jar.keep(response)
      return response
    }
    const first = await visit(true)
    expect(first.headers['x-latch-affinity']).toBe('new')
    const bound = /^(one|two) {2}session=\S+ {2}visits=1 {2}\(new session\)/.exec(first.body)?.[1]
    expect(bound, first.body).toBeDefined()
    const second = await visit(true)
    expect(second.headers['x-latch-affinity']).toBe('hit')
    expect(second.body).toMatch(new RegExp(`^${bound} {2}session=\\S+ {2}visits=2\\n`))

    const withoutJar = [await visit(false), await visit(false)]
    expect(withoutJar.map((response) => response.body.split(' ')[0]).sort()).toEqual(['one', 'two'])
    for (const response of withoutJar) expect(response.body).toContain('(new session)')

    // "Stop the backend your session is on … rebound once to the other (`x-latch-affinity: rebound`), then stays there (`hit`)"
    const stopped = backends.find((backend) => backend.name === bound)
    stopped?.child.kill('SIGTERM')
    await waitFor(() => stopped?.child.exitCode !== null, 10_000, 50, 'the bound backend stopped')
    const rebound = await visit(true)
    expect(rebound.headers['x-latch-affinity']).toBe('rebound')
    expect(rebound.body.split(' ')[0]).toBe(bound === 'one' ? 'two' : 'one')
    expect((await visit(true)).headers['x-latch-affinity']).toBe('hit')
  }, 60_000)
})
