/**
 * @module Runs the real `latch` CLI (dist/cli/main.js) as a child process, as a user would.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process'
import type { Readable } from 'node:stream'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { stringify } from 'yaml'

export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js')

/** A log line from the process (JSON), or the raw text when it was not JSON. */
export type LogLine = Record<string, unknown> & { msg?: string; raw?: string }

/** A running latch process. */
export interface LatchProcess {
  readonly child: ChildProcess
  /** Bound traffic addresses, e.g. `http://127.0.0.1:45123`. */
  readonly urls: string[]
  readonly url: string
  readonly port: number
  /** The admin listener, e.g. `http://127.0.0.1:45124`; undefined when `admin.listen` is false. */
  readonly adminUrl: string | undefined
  readonly logs: LogLine[]
  readonly stderr: () => string
  readonly configFile: string | undefined
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>
}

/** Writes `config` (an object, or YAML text) to a temp file; returns its path. */
export function writeConfig(config: object | string, name = 'latch.yaml'): string {
  const dir = mkdtempSync(join(tmpdir(), 'latch-test-'))
  const file = join(dir, name)
  writeFileSync(file, typeof config === 'string' ? config : stringify(config))
  return file
}

/** How the CLI is run: this checkout's build with this Node, or `command` (an installed `latch`) itself. */
function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv | undefined, command?: string, fdLimit?: number): ChildProcessByStdio<null, Readable, Readable> {
  const cli = command === undefined ? [process.execPath, CLI, ...args] : [command, ...args]
  // fdLimit: started the way an operator would, `ulimit -n` in a shell that then execs node (same pid).
  const argv = fdLimit === undefined ? cli : ['/bin/sh', '-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, ...cli]
  return spawn(argv[0] as string, argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
}

/** Runs the CLI to completion (for `check`, `--help`, bad configs); returns code and output. */
export function runCli(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 15_000, command?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawnCli(args, env, command)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`latch ${args.join(' ')} did not exit within ${timeoutMs} ms\n${stdout}\n${stderr}`))
    }, timeoutMs)
    void exitedWithOutput(child).then((code) => {
      clearTimeout(timer)
      resolveRun({ code, stdout, stderr })
    })
  })
}

/**
 * Starts latch with a config (object or YAML) or raw CLI args, and waits until it serves (with
 * `fdLimit`, under that file-descriptor limit). An object
 * config without `admin` gets `admin.listen: 127.0.0.1:0`, so test processes never compete for the
 * default admin port, and without `shutdown` a short drain (no drainDelay), so stopping is quick.
 */
export async function startLatch(options: { config?: object | string; args?: readonly string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number; fdLimit?: number; command?: string }): Promise<LatchProcess> {
  const config = typeof options.config === 'object' ? withTestDefaults(options.config) : options.config
  const configFile = config === undefined ? undefined : writeConfig(config)
  const args = [...(configFile === undefined ? [] : ['--config', configFile]), ...(options.args ?? [])]
  const child = spawnCli(args, options.env, options.command, options.fdLimit)
  const logs: LogLine[] = []
  let stderr = ''
  let buffered = ''
  const exited = exitedWithOutput(child)
  let adminUrl: string | undefined
  const ready = new Promise<string[]>((resolveReady, reject) => {
    const timer = setTimeout(() => reject(new Error(`latch did not start within ${options.timeoutMs ?? 10_000} ms\nstdout: ${JSON.stringify(logs)}\nstderr: ${stderr}`)), options.timeoutMs ?? 10_000)
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString()
      let newline
      while ((newline = buffered.indexOf('\n')) !== -1) {
        const line = buffered.slice(0, newline)
        buffered = buffered.slice(newline + 1)
        let parsed: LogLine
        try {
          parsed = JSON.parse(line) as LogLine
        } catch {
          parsed = { raw: line }
        }
        logs.push(parsed)
        if (parsed.msg === 'latch is serving') {
          clearTimeout(timer)
          if (typeof parsed.admin === 'string') adminUrl = `http://${parsed.admin}`
          resolveReady((parsed.listen as string[]).map((address) => `http://${address}`))
        }
      }
    })
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`latch exited with ${code} before serving\nstdout: ${JSON.stringify(logs)}\nstderr: ${stderr}`))
    })
  })
  const urls = await ready
  const url = urls[0] as string
  return {
    child,
    urls,
    url,
    port: Number(new URL(url).port),
    adminUrl,
    logs,
    stderr: () => stderr,
    configFile,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode
      child.kill(signal)
      return exited
    },
  }
}

function withTestDefaults(config: object): object {
  return {
    ...('admin' in config ? {} : { admin: { listen: '127.0.0.1:0' } }),
    ...('shutdown' in config ? {} : { shutdown: { drainDelay: '0s', drainTimeout: '3s' } }),
    ...config,
  }
}

/** Access-log lines (one per request) seen so far. */
export function accessLines(latch: LatchProcess): LogLine[] {
  return latch.logs.filter((line) => line.log === 'access')
}

/**
 * The exit code, once the process exited and its output was read: 'exit' can come before the last
 * stdout lines are read ('close' comes after). A worker process still holding the pipe cannot make
 * this wait for more than a second after the exit.
 */
function exitedWithOutput(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      const timer = setTimeout(() => resolve(code), 1000)
      const done = (): void => {
        clearTimeout(timer)
        resolve(code)
      }
      if (child.stdout?.readableEnded !== false && child.stderr?.readableEnded !== false) done()
      else child.once('close', done)
    })
  })
}
