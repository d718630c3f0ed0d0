/**
 * docs/concepts/sessions.md, "Affinity (sticky sessions)" (the README's chapter until it moved to
 * docs/): every YAML example in it is a valid config (or Ingress manifest) that `latch check` accepts,
 * and the Kubernetes Ingress example does what it says it does when served by the real CLI (the
 * exact Set-Cookie attributes and the warning).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse, stringify } from 'yaml'
import { send } from '../helpers/http-client.js'
import { runCli, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

const SESSIONS_DOC = readFileSync(resolve(import.meta.dirname, '../../docs/concepts/sessions.md'), 'utf8')
const ENV = { SESSION_SECRET: 'readme-example-secret-0123456789' }

/** The whole file: it is the chapter. */
function chapter(): string {
  expect(SESSIONS_DOC.startsWith('# Affinity (sticky sessions)\n')).toBe(true)
  return SESSIONS_DOC
}

/** The ```yaml blocks of the chapter, in order. */
function yamlBlocks(): string[] {
  return [...chapter().matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1] as string)
}

/** The chapter's examples by what they show: [pool sessionPersistence, Socket.IO config, Ingress manifest, the config that reads it]. */
function examples(): [string, string, string, string] {
  const blocks = yamlBlocks()
  const find = (marker: string): string => {
    const found = blocks.filter((block) => block.includes(marker))
    expect(found, marker).toHaveLength(1)
    return found[0] as string
  }
  return [find('sessionPersistence:'), find('name: sid'), find('kind: Ingress'), find('routes: ingress.yaml')]
}

interface ExampleConfig {
  pools: { name: string; endpoints: string[] }[]
  listen?: unknown
  [key: string]: unknown
}

const running: { latch: LatchProcess; upstreams: TestUpstream[] }[] = []

afterAll(async () => {
  for (const { latch, upstreams } of running) {
    await latch.stop()
    await Promise.all(upstreams.map((upstream) => upstream.stop()))
  }
})

describe('docs/concepts/sessions.md examples', () => {
  it('has a pool sessionPersistence example, a Socket.IO example, an Ingress manifest and the Latch config that reads it', () => {
    expect(yamlBlocks()).toHaveLength(4)
    examples()
  })

  it('every config example passes `latch check`', async () => {
    const [persistence, socketIo, ingress, latchYaml] = examples()
    const dir = mkdtempSync(join(tmpdir(), 'latch-readme-'))
    writeFileSync(join(dir, 'session-persistence.yaml'), persistence)
    writeFileSync(join(dir, 'socket-io.yaml'), socketIo)
    writeFileSync(join(dir, 'ingress.yaml'), ingress)
    writeFileSync(join(dir, 'latch.yaml'), latchYaml)
    for (const file of ['session-persistence.yaml', 'socket-io.yaml', 'latch.yaml']) {
      const { code, stdout, stderr } = await runCli(['check', '--config', join(dir, file)], ENV)
      expect(stderr, file).toBe('')
      expect(stdout, file).toMatch(/: ok \(\d+ pools?, \d+ listeners?\)\n$/)
      expect(code, file).toBe(0)
    }
  })

  it('the Ingress example sets the cookie and prints the warning the doc shows', async () => {
    const [, , ingress, latchYaml] = examples()
    const text = chapter()
    const claimedCookie = /sets `(INGRESSCOOKIE=…; [^`]+)`/.exec(text)?.[1]
    expect(claimedCookie).toBeDefined()
    const claimedWarning = /`latch check` says `(warning: [^`]+)`/.exec(text)?.[1]?.replace(/\s*\n\s*/g, ' ')
    expect(claimedWarning).toBeDefined()

    const dir = mkdtempSync(join(tmpdir(), 'latch-readme-'))
    writeFileSync(join(dir, 'ingress.yaml'), ingress)
    const config = parse(latchYaml) as ExampleConfig
    const check = (() => {
      writeFileSync(join(dir, 'latch.yaml'), latchYaml)
      return runCli(['check', '--config', join(dir, 'latch.yaml')], ENV)
    })()
    expect((await check).stdout).toContain(claimedWarning as string)

    const upstreams = await Promise.all((config.pools[0]?.endpoints ?? []).map((_, index) => startUpstream(`shop#${index + 1}`)))
    config.pools[0] = { ...(config.pools[0] as ExampleConfig['pools'][number]), endpoints: upstreams.map((upstream) => upstream.url) }
    config.listen = '127.0.0.1:0'
    writeFileSync(join(dir, 'served.yaml'), stringify({ ...config, admin: { listen: false }, shutdown: { drainDelay: '0s', drainTimeout: '3s' } }))
    const latch = await startLatch({ args: ['--config', join(dir, 'served.yaml'), '--access-log', 'off'], env: ENV })
    running.push({ latch, upstreams })
    const response = await send({ port: latch.port, path: '/', headers: { host: 'shop.example.com' } })
    const line = (response.headers['set-cookie'] ?? [])[0] as string
    expect(line.replace(/^INGRESSCOOKIE=[A-Za-z0-9_-]{58};/, 'INGRESSCOOKIE=…;')).toBe(claimedCookie)
  })
})
