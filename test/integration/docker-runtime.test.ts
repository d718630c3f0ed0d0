import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { startLatch } from '../helpers/latch-process.js'
import { startUpstream } from '../helpers/upstream.js'

const REPO = resolve(import.meta.dirname, '../..')
const CHECK = resolve(REPO, 'scripts/docker-runtime-check.mjs')
const HEALTHCHECK = resolve(REPO, 'scripts/healthcheck.mjs')

/** Runs a script to its end; returns exit code and combined output. */
function runNode(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 170_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`node ${args.join(' ')} did not finish within ${timeoutMs} ms\n${output}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolveRun({ code, output })
    })
  })
}

describe('the Docker image, replayed without a container engine', () => {
  it('builds, installs production dependencies only, and serves a real upstream with its own CMD and config', { timeout: 180_000 }, async () => {
    const { code, output } = await runNode([CHECK])
    expect(output).toContain('RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev')
    expect(output).toMatch(/^ok {3}USER is a non-root user \(node\)$/m)
    expect(output).toMatch(/^ok {3}every package the image imports is an installed production dependency$/m)
    expect(output).toMatch(/^ok {3}CMD node dist\/cli\/main\.js --config config\/latch\.yaml serves on /m)
    expect(output).toMatch(/^ok {3}GET \/image-check reaches the real upstream through the proxy \(status 200/m)
    expect(output).toMatch(/^ok {3}the admin listener serves the dashboard \(\/ 200/m)
    expect(output).toMatch(/^ok {3}HEALTHCHECK exits 0 while it serves/m)
    expect(output).toMatch(/^ok {3}SIGTERM stops the proxy with exit code 0/m)
    expect(output).toMatch(/^ok {3}HEALTHCHECK exits 1 after it stopped/m)
    expect(output, output).toContain('docker runtime check passed')
    expect(code).toBe(0)
  })

  it('fails when the image code imports a devDependency, which the production install leaves out', { timeout: 120_000 }, async () => {
    const pkg = JSON.parse(readFileSync(resolve(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> }
    expect(pkg.devDependencies).toHaveProperty('ws')
    expect(pkg.dependencies).not.toHaveProperty('ws')
    const { code, output } = await runNode([CHECK, '--runtime-only', '--inject-import', 'ws'])
    expect(output).toMatch(/^FAIL dist\/cli\/main\.js imports "ws", which is not in package\.json dependencies/m)
    expect(output).toMatch(/^FAIL CMD node dist\/cli\/main\.js --config config\/latch\.yaml did not start: exited with code 1/m)
    expect(output).toContain("Cannot find package 'ws'")
    expect(code).toBe(1)
  })

  it('runs the CMD and HEALTHCHECK that the Dockerfile declares, in exec form', () => {
    const dockerfile = readFileSync(resolve(REPO, 'Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/cli\/main\.js", "--config", "config\/latch\.yaml"\]$/m)
    expect(dockerfile).toMatch(/^HEALTHCHECK .*CMD \["node", "scripts\/healthcheck\.mjs", "--config", "config\/latch\.yaml"\]$/m)
    expect(dockerfile).toMatch(/^USER node$/m)
  })
})

function freePort(): Promise<number> {
  const server = createServer()
  return new Promise((resolveFree) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    server.close(() => resolveFree(port))
  }))
}

describe('the health probe', () => {
  it('without an admin listener, pings the traffic listener with OPTIONS * and needs no upstream', async () => {
    const port = await freePort()
    const latch = await startLatch({ config: { listen: `127.0.0.1:${port}`, admin: { listen: false }, pools: [{ name: 'app', endpoints: ['http://127.0.0.1:9'] }] } })
    const configFile = latch.configFile as string
    const healthy = await runNode([HEALTHCHECK, '--config', configFile])
    expect(healthy.output).toContain(`OPTIONS * on 127.0.0.1:${port} answered`)
    expect(healthy.code).toBe(0)
    expect(await latch.stop()).toBe(0)
    const stopped = await runNode([HEALTHCHECK, '--config', configFile])
    expect(stopped.output).toContain('ECONNREFUSED')
    expect(stopped.code).toBe(1)
  })


  it('with LATCH_HEALTHCHECK_URL, is healthy on a 2xx answer and unhealthy on any other status or no answer', async () => {
    const health = await startUpstream('health')
    try {
      const ok = await runNode([HEALTHCHECK], { LATCH_HEALTHCHECK_URL: `${health.url}/healthz` })
      expect(ok).toMatchObject({ code: 0 })
      expect(ok.output).toContain('answered 200')
      health.healthStatus = 503
      const failing = await runNode([HEALTHCHECK], { LATCH_HEALTHCHECK_URL: `${health.url}/healthz` })
      expect(failing).toMatchObject({ code: 1 })
      expect(failing.output).toContain('unhealthy')
    } finally {
      await health.stop()
    }
    const gone = await runNode([HEALTHCHECK], { LATCH_HEALTHCHECK_URL: `${health.url}/healthz` })
    expect(gone).toMatchObject({ code: 1 })
    expect(gone.output).toContain('ECONNREFUSED')
  })
})
