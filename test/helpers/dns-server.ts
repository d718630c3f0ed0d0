/**
 * @module A real DNS server for tests: dnsmasq on 127.0.0.1 at a free port, records changeable at runtime.
 *
 * A/AAAA records live in a hosts file that dnsmasq re-reads on SIGHUP; SRV records are flags, so
 * changing them restarts dnsmasq on the same port. Names under the test domain are answered only
 * from these records (`--local`): NXDOMAIN when absent, NODATA for a family without records.
 * dnsmasq is installed by .ci/ensure-tools; a missing binary fails the test, it is never skipped.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { Resolver } from 'node:dns/promises'
import { accessSync, chmodSync, constants, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from './wait.js'

/** Address records: name → IPv4 and IPv6 addresses. */
export type AddressRecords = Readonly<Record<string, readonly string[]>>

/** One SRV record: `name` (e.g. `_http._tcp.web.latch.test`) points at `target`:`port`. */
export interface SrvRecord {
  readonly name: string
  readonly target: string
  readonly port: number
  readonly priority?: number
  readonly weight?: number
}

/** A running dnsmasq. */
export interface TestDnsServer {
  readonly port: number
  /** `127.0.0.1:port`, as `discovery.resolver` takes it. */
  readonly address: string
  /** PID of the current dnsmasq process (changes on restart). */
  readonly pid: () => number
  /** Replaces every A/AAAA record and waits until the server answers with exactly them (if running). */
  setRecords(records: AddressRecords): Promise<void>
  /** Replaces the SRV records (restarts dnsmasq on the same port) and waits until it answers again. */
  setSrv(records: readonly SrvRecord[]): Promise<void>
  /** Stops the server by PID (queries are then refused) and waits for it to exit. */
  stop(): Promise<void>
  /** Starts it again on the same port with the current records. */
  restart(): Promise<void>
  /** SIGSTOP / SIGCONT: while paused, queries time out instead of being refused. */
  pause(): void
  resume(): void
}

/** The test domain: dnsmasq answers names under it only from the test's records. */
export const TEST_DOMAIN = 'latch.test'
/** Also answered only locally: the Kubernetes cluster domain, so tests can use real Service names. */
const CLUSTER_DOMAIN = 'cluster.local'

const DNSMASQ_PATHS = ['/usr/sbin/dnsmasq', '/usr/local/sbin/dnsmasq', '/usr/bin/dnsmasq']

/** Starts dnsmasq with `records` (and `srv`) on a free loopback port. */
export async function startDnsServer(records: AddressRecords = {}, srv: readonly SrvRecord[] = []): Promise<TestDnsServer> {
  const binary = findDnsmasq()
  // dnsmasq started as root drops to `nobody`, which must still read the hosts file on SIGHUP.
  const dir = mkdtempSync(join(tmpdir(), 'latch-dns-'))
  chmodSync(dir, 0o755)
  const hostsFile = join(dir, 'hosts')
  let current = { records, srv }
  writeHosts(hostsFile, records)
  let { child, port }: { child: ChildProcess | undefined; port: number } = await launchOnFreePort(binary, hostsFile, srv)
  const address = `127.0.0.1:${port}`
  const server: TestDnsServer = {
    port,
    address,
    pid: () => child?.pid ?? -1,
    async setRecords(next) {
      const gone = Object.fromEntries(Object.keys(current.records).map((name) => [name, []]))
      current = { ...current, records: next }
      writeHosts(hostsFile, next)
      if (child === undefined) return // stopped: served from the file on restart()
      child.kill('SIGHUP')
      await waitForAnswers(address, { ...gone, ...next })
    },
    async setSrv(next) {
      current = { ...current, srv: next }
      await server.stop()
      await server.restart()
    },
    async stop() {
      const running = child
      child = undefined
      if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
      const exited = new Promise((resolve) => running.once('exit', resolve))
      running.kill('SIGCONT')
      running.kill('SIGTERM')
      await exited
    },
    async restart() {
      writeHosts(hostsFile, current.records)
      // The port was ours a moment ago; if the OS has not released it yet, try again shortly.
      child = await waitFor(() => launch(binary, port, hostsFile, current.srv).catch(() => undefined), 5000, 100, `dnsmasq to start again on port ${port}`)
    },
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
  }
  cleanups.push(async () => {
    await server.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  await waitForAnswers(address, records)
  return server
}

const cleanups: (() => Promise<void>)[] = []

/** Stops every DNS server started by this test file (call in afterAll/afterEach). */
export async function stopDnsServers(): Promise<void> {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
}

function findDnsmasq(): string {
  for (const path of DNSMASQ_PATHS) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // try the next place
    }
  }
  throw new Error(`dnsmasq not found in ${DNSMASQ_PATHS.join(', ')} — run .ci/ensure-tools (it installs the Debian package dnsmasq-base)`)
}

/** Writes the hosts file atomically, so a SIGHUP never reads half of it. */
function writeHosts(file: string, records: AddressRecords): void {
  const lines = Object.entries(records).flatMap(([name, addresses]) => addresses.map((address) => `${address} ${name}`))
  const temp = `${file}.${process.pid}.tmp`
  writeFileSync(temp, `${lines.join('\n')}\n`, { mode: 0o644 })
  renameSync(temp, file)
}

/** A free port is only free until someone takes it: retry with another if dnsmasq cannot bind. */
async function launchOnFreePort(binary: string, hostsFile: string, srv: readonly SrvRecord[]): Promise<{ child: ChildProcess; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freeUdpPort()
    try {
      return { child: await launch(binary, port, hostsFile, srv), port }
    } catch (error) {
      if (attempt >= 5) throw error
    }
  }
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4')
    socket.once('error', reject)
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address()
      socket.close(() => resolve(port))
    })
  })
}

/** Spawns dnsmasq in the foreground; resolves once it answers queries, rejects if it exits first. */
async function launch(binary: string, port: number, hostsFile: string, srv: readonly SrvRecord[]): Promise<ChildProcess> {
  const args = [
    '--keep-in-foreground', '--conf-file=/dev/null', '--pid-file=', `--port=${port}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', `--addn-hosts=${hostsFile}`, `--local=/${TEST_DOMAIN}/`, `--local=/${CLUSTER_DOMAIN}/`, '--cache-size=0', '--log-facility=-',
    ...srv.map((record) => `--srv-host=${record.name},${record.target},${record.port},${record.priority ?? 0},${record.weight ?? 0}`),
  ]
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let onExit: ((code: number | null) => void) | undefined
  const exited = new Promise<never>((_, reject) => {
    onExit = (code) => reject(new Error(`dnsmasq exited with ${code} on port ${port}: ${stderr}`))
    child.once('exit', onExit)
  })
  const answering = waitFor(() => answers(`127.0.0.1:${port}`), 5000, 20, `dnsmasq on port ${port} to answer`)
  answering.catch(() => undefined) // the race below reports it; this only marks it handled when exit won
  try {
    await Promise.race([exited, answering])
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  } finally {
    if (onExit !== undefined) child.off('exit', onExit)
  }
  return child
}

/** True once the server gives any DNS answer (NXDOMAIN included) for a name under the test domain. */
async function answers(address: string): Promise<boolean> {
  const resolver = testResolver(address)
  try {
    await resolver.resolve4(`probe.${TEST_DOMAIN}`)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === 'ENOTFOUND' || code === 'ENODATA'
  }
}

/** Waits until every name in `records` resolves to exactly its addresses (canonical text; none = NXDOMAIN). */
async function waitForAnswers(address: string, records: AddressRecords): Promise<void> {
  const resolver = testResolver(address)
  const lookup = async (name: string): Promise<string[]> => {
    const settled = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)])
    return settled.flatMap((result) => (result.status === 'fulfilled' ? result.value : [])).sort()
  }
  for (const [name, addresses] of Object.entries(records)) {
    const wanted = JSON.stringify([...addresses].sort())
    await waitFor(async () => JSON.stringify(await lookup(name)) === wanted, 5000, 20, `dnsmasq to answer ${name} with ${wanted}`)
  }
}

/** A resolver asking only the test server, quickly. */
export function testResolver(address: string): Resolver {
  const resolver = new Resolver({ timeout: 500, tries: 1 })
  resolver.setServers([address])
  return resolver
}
