/**
 * @module Starts the image's CMD against a real upstream and checks it serves, probes healthy, and stops.
 */
import { spawn, spawnSync } from 'node:child_process'
import { createServer } from 'node:http'
import { createServer as createTcpServer } from 'node:net'

const START_TIMEOUT_MS = 15_000
const STOP_TIMEOUT_MS = 10_000

/**
 * @typedef {{ cwd: string, env: Record<string, string>, cmd: string[], healthcheck: string[] }} ServeOptions
 * @typedef {{ ok: boolean, what: string }} Check
 */

/** Runs the whole serve sequence; returns one entry per check, in order. */
export async function checkServing(options) {
  /** @type {Check[]} */
  const checks = []
  const upstream = await startUpstream()
  const port = await freePort()
  const adminPort = await freePort()
  const env = { ...options.env, LATCH_LISTEN: `127.0.0.1:${port}`, LATCH_ADMIN_LISTEN: `127.0.0.1:${adminPort}`, LATCH_UPSTREAM: upstream.url }
  const proxy = startCmd(options.cmd, options.cwd, env)
  try {
    const started = await proxy.ready
    checks.push({ ok: started.ok, what: started.ok ? `CMD ${options.cmd.join(' ')} serves on 127.0.0.1:${port}` : `CMD ${options.cmd.join(' ')} did not start: ${started.why}` })
    if (!started.ok) return checks
    checks.push(await proxiedRequest(`http://127.0.0.1:${port}/image-check?q=1`, upstream))
    checks.push(await dashboardFiles(`http://127.0.0.1:${adminPort}`))
    checks.push(healthcheck(options, env, 0))
    const code = await proxy.stop()
    checks.push({ ok: code === 0, what: `SIGTERM stops the proxy with exit code 0 (got ${code})` })
    checks.push(healthcheck(options, env, 1))
    return checks
  } finally {
    await proxy.stop()
    await upstream.close()
  }
}

/** A real upstream that names itself and reports what it received. */
function startUpstream() {
  const seen = []
  const server = createServer((req, res) => {
    req.resume()
    seen.push({ url: req.url, via: req.headers.via })
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'image-check' })
    res.end(JSON.stringify({ upstream: 'image-check', url: req.url }))
  })
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const close = () => new Promise((done) => {
        server.close(done)
        server.closeAllConnections()
      })
      resolve({ url: `http://127.0.0.1:${server.address().port}`, seen, close })
    })
  })
}

/** A currently free loopback port, for LATCH_LISTEN and LATCH_ADMIN_LISTEN (the health probe reads the same config). */
function freePort() {
  const server = createTcpServer()
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function startCmd(cmd, cwd, env) {
  const child = spawn(cmd[0], cmd.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)))
  const ready = new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ ok: false, why: `no "latch is serving" line within ${START_TIMEOUT_MS} ms\n${output}` }), START_TIMEOUT_MS)
    const onData = (chunk) => {
      output += chunk.toString()
      if (output.includes('"msg":"latch is serving"')) {
        clearTimeout(timer)
        resolve({ ok: true })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    void exited.then((code) => {
      clearTimeout(timer)
      resolve({ ok: false, why: `exited with code ${code}\n${output.trim()}` })
    })
  })
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    const code = await exited
    clearTimeout(timer)
    return code
  }
  return { ready, stop }
}

/** The admin listener serves the dashboard page and its files (shipped in dashboard/ and the uplot dependency). */
async function dashboardFiles(adminUrl) {
  const statuses = []
  for (const path of ['/', '/dashboard.js', '/dashboard.css', '/uplot.js', '/uplot.css']) {
    try {
      const response = await fetch(`${adminUrl}${path}`, { signal: AbortSignal.timeout(5000) })
      await response.arrayBuffer()
      statuses.push(`${path} ${response.status}`)
    } catch (error) {
      statuses.push(`${path} ${error.message}`)
    }
  }
  return { ok: statuses.every((status) => status.endsWith(' 200')), what: `the admin listener serves the dashboard (${statuses.join(', ')})` }
}

async function proxiedRequest(url, upstream) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
    const body = await response.json()
    const via = upstream.seen.at(-1)?.via
    const ok = response.status === 200 && response.headers.get('x-upstream') === 'image-check' && body.url === '/image-check?q=1' && via === '1.1 latch'
    return { ok, what: `GET /image-check reaches the real upstream through the proxy (status ${response.status}, x-upstream ${response.headers.get('x-upstream')}, via ${via})` }
  } catch (error) {
    return { ok: false, what: `GET /image-check through the proxy failed: ${error.message}` }
  }
}

function healthcheck(options, env, expected) {
  const result = spawnSync(options.healthcheck[0], options.healthcheck.slice(1), { cwd: options.cwd, env, encoding: 'utf8', timeout: 10_000 })
  const state = expected === 0 ? 'while it serves' : 'after it stopped'
  return { ok: result.status === expected, what: `HEALTHCHECK exits ${result.status} ${state} (expected ${expected}): ${(result.stdout + result.stderr).trim()}` }
}
