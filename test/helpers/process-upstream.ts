/**
 * @module An upstream in a child process of its own, so a test can `kill -9` it (SIGKILL: no goodbye,
 * open connections die with it). It answers every path with 200, its name in `x-upstream`.
 */
import { spawn, type ChildProcess } from 'node:child_process'

/** A running upstream process. */
export interface ProcessUpstream {
  readonly name: string
  readonly port: number
  readonly url: string
  /** `host:port`, as Latch names the endpoint. */
  readonly id: string
  readonly child: ChildProcess
  /** SIGKILL; resolves once the process is gone. */
  kill(): Promise<void>
}

const SERVER = `
const name = process.argv[1]
const server = require('node:http').createServer((req, res) => {
  req.resume()
  res.writeHead(200, { 'content-type': 'text/plain', 'x-upstream': name })
  res.end(name)
})
server.keepAliveTimeout = 30000
server.listen(0, '127.0.0.1', () => console.log(String(server.address().port)))
`

/** Starts an upstream process named `name` on an ephemeral port of 127.0.0.1. */
export async function startProcessUpstream(name: string): Promise<ProcessUpstream> {
  const child = spawn(process.execPath, ['-e', SERVER, name], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`upstream ${name} did not start within 10 s`)), 10_000)
    child.stdout?.once('data', (chunk: Buffer) => {
      clearTimeout(timer)
      resolve(Number(chunk.toString().trim()))
    })
    child.once('exit', (code) => reject(new Error(`upstream ${name} exited with ${code} before listening`)))
  })
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    id: `127.0.0.1:${port}`,
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
