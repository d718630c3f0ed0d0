#!/usr/bin/env node
/**
 * @module `npm run demo`: three demo backends, and the real Latch proxy in front of them on :8080.
 *
 * Latch runs in this process through `startProxy` with config/examples/demo.yaml, loaded exactly as
 * `latch --config` loads it. One process keeps Ctrl-C simple: nothing is left holding port 8080.
 * LATCH_DEMO_PORT (default 8080), LATCH_DEMO_ADMIN_PORT (default 9901) and DEMO_BACKEND_PORTS
 * (default 3001,3002,3003; one value applies to all three) choose the ports; 0 means any free port,
 * and a busy port falls back to a free one.
 */
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfigFile } from '../config/load.js'
import { ConfigError } from '../errors/config-error.js'
import { StartupError } from '../errors/startup-error.js'
import { createLogger } from '../observability/logger.js'
import { startProxy, type RunningProxy } from '../proxy.js'
import { startDemoBackend, type DemoBackend } from './demo-backend.js'

const CONFIG_FILE = fileURLToPath(new URL('../../config/examples/demo.yaml', import.meta.url))
const NAMES = ['demo-1', 'demo-2', 'demo-3'] as const
const DEFAULT_BACKEND_PORTS = [3001, 3002, 3003] as const
const DEFAULT_PROXY_PORT = 8080
const DEFAULT_ADMIN_PORT = 9901

/** A bad LATCH_DEMO_PORT, LATCH_DEMO_ADMIN_PORT or DEMO_BACKEND_PORTS value; exit code 2. */
class DemoSettingsError extends Error {}

/** Ports for Latch's two listeners; `busy` holds the asked-for ports that were taken. */
interface LatchPorts {
  readonly traffic: number
  readonly admin: number
  readonly busy: { traffic?: number; admin?: number }
}

interface DemoSettings {
  readonly latch: LatchPorts
  readonly backendPorts: readonly number[]
}

interface StartedProxy {
  readonly proxy: RunningProxy
  readonly ports: LatchPorts
}

function readSettings(env: NodeJS.ProcessEnv): DemoSettings {
  const traffic = parsePort(env.LATCH_DEMO_PORT?.trim() || String(DEFAULT_PROXY_PORT), 'LATCH_DEMO_PORT')
  const admin = parsePort(env.LATCH_DEMO_ADMIN_PORT?.trim() || String(DEFAULT_ADMIN_PORT), 'LATCH_DEMO_ADMIN_PORT')
  const backendText = env.DEMO_BACKEND_PORTS?.trim() || DEFAULT_BACKEND_PORTS.join(',')
  const listed = backendText.split(',').map((part) => parsePort(part.trim(), 'DEMO_BACKEND_PORTS'))
  if (listed.length !== 1 && listed.length !== NAMES.length) {
    throw new DemoSettingsError(`DEMO_BACKEND_PORTS=${backendText}: expected one port for all three backends or three comma-separated ports, e.g. 3001,3002,3003 (0 = any free port)`)
  }
  return { latch: { traffic, admin, busy: {} }, backendPorts: NAMES.map((_, index) => listed[listed.length === 1 ? 0 : index] as number) }
}

function parsePort(text: string, variable: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new DemoSettingsError(`${variable}: invalid port ${JSON.stringify(text)} — expected a number from 0 to 65535 (0 = any free port)`)
  }
  return Number(text)
}

/** Starts Latch with the demo config; a listener whose port is busy moves to a free port. */
async function startLatch(backends: readonly DemoBackend[], ports: LatchPorts): Promise<StartedProxy> {
  for (let tries = 0; ; tries++) {
    try {
      return await startLatchOn(backends, ports)
    } catch (error) {
      const cause = error instanceof StartupError ? (error.cause as NodeJS.ErrnoException | undefined) : undefined
      if (cause?.code !== 'EADDRINUSE' || tries === 2) throw error
      // bind() names the listener in its message: "cannot listen for the admin API (admin.listen) on ...".
      const which = /admin\.listen/.test((error as Error).message) ? 'admin' : 'traffic'
      if (ports[which] === 0) throw error
      ports = { ...ports, [which]: 0, busy: { ...ports.busy, [which]: ports[which] } }
    }
  }
}

async function startLatchOn(backends: readonly DemoBackend[], ports: LatchPorts): Promise<StartedProxy> {
  const env: NodeJS.ProcessEnv = { ...process.env, LATCH_DEMO_LISTEN: `127.0.0.1:${ports.traffic}`, LATCH_DEMO_ADMIN: `127.0.0.1:${ports.admin}` }
  backends.forEach((backend, index) => (env[`DEMO_BACKEND_${index + 1}`] = backend.url))
  const loaded = loadConfigFile(CONFIG_FILE, env)
  const proxy = await startProxy(loaded, createLogger(loaded.config.log.level))
  const traffic = (proxy.addresses[0] as { port: number }).port
  return { proxy, ports: { traffic, admin: proxy.adminAddress?.port ?? 0, busy: ports.busy } }
}

function banner(backends: readonly DemoBackend[], started: StartedProxy): string {
  const { ports } = started
  const url = `http://localhost:${ports.traffic}`
  const admin = `http://127.0.0.1:${ports.admin}`
  const moved = (busy: number | undefined, now: number): string => (busy === undefined ? '' : `   (port ${busy} is busy, took ${now})`)
  const lines = [
    '',
    'Latch demo is running.',
    '',
    ...backends.map((backend) => `  backend ${backend.name}:  ${backend.url}${moved(backend.busyPort, backend.port)}`),
    `  Latch:             ${url}${moved(ports.busy.traffic, ports.traffic)}`,
    `  admin API:         ${admin}${moved(ports.busy.admin, ports.admin)}`,
    `  config:            ${relative(process.cwd(), CONFIG_FILE) || CONFIG_FILE}`,
    '',
    'Each request goes to the next backend (round-robin); the x-backend header names it:',
    `  for i in 1 2 3; do curl -s -i ${url}/ | grep -i x-backend; done`,
    'Paths under /first always go to demo-1 (a longer Ingress Prefix rule wins):',
    `  curl -s ${url}/first/hello`,
    'Paths under /sticky keep a client on one backend with a signed cookie (run it a few times):',
    `  curl -s -i -c /tmp/latch-demo.jar -b /tmp/latch-demo.jar ${url}/sticky/ | grep -i -e x-backend -e x-latch-affinity`,
    `Or open ${url}/ (round-robin) or ${url}/sticky/ (sticky) in a browser and reload.`,
    'The admin API shows each endpoint with its counters; /metrics is for Prometheus:',
    `  curl -s ${admin}/pools`,
    '',
    'Access log lines (one JSON line per request) follow. Press Ctrl-C to stop.',
    '',
  ]
  return lines.join('\n')
}

/** Stops the proxy (letting in-flight requests finish), then the backends; a second signal exits at once. */
function stopOnSignal(proxy: RunningProxy, backends: readonly DemoBackend[]): void {
  let stopping = false
  const stop = (): void => {
    if (stopping) process.exit(1)
    stopping = true
    process.stdout.write('\nStopping the demo...\n')
    proxy
      .close({ drainDelay: 0, drainTimeout: 2000 })
      .then(() => Promise.all(backends.map((backend) => backend.close())))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`demo: error while stopping: ${String(error)}\n`)
          process.exit(1)
        },
      )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

async function main(): Promise<void> {
  const settings = readSettings(process.env)
  const backends = await Promise.all(NAMES.map((name, index) => startDemoBackend(name, settings.backendPorts[index] as number)))
  let started: StartedProxy
  try {
    started = await startLatch(backends, settings.latch)
  } catch (error) {
    await Promise.all(backends.map((backend) => backend.close()))
    throw error
  }
  stopOnSignal(started.proxy, backends)
  process.stdout.write(`${banner(backends, started)}\n`)
}

main().catch((error: unknown) => {
  if (error instanceof DemoSettingsError) {
    process.stderr.write(`demo: ${error.message}\n`)
    process.exit(2)
  }
  const known = error instanceof ConfigError || error instanceof StartupError
  process.stderr.write(`demo: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`)
  process.exit(1)
})
