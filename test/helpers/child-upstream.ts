/**
 * @module An upstream in its own node process, so a test can stop it for real (SIGSTOP: the kernel
 * still accepts its connections and buffers requests, but nothing answers) and let it go on (SIGCONT).
 */
import { spawn, type ChildProcess } from 'node:child_process'

/** A running upstream process answering 200 with `x-upstream: <name>` to every request. */
export interface ChildUpstream {
  readonly name: string
  readonly url: string
  readonly child: ChildProcess
  /** SIGSTOP: the process stops answering. */
  pause(): void
  /** SIGCONT: it answers what queued up meanwhile. */
  resume(): void
  stop(): Promise<void>
}

const SERVER = `
const http = require('node:http')
const name = process.argv[1]
const server = http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
  req.resume()
  req.on('end', () => {
    res.writeHead(200, { 'x-upstream': name, 'content-type': 'text/plain' })
    res.end('ok')
  })
})
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'))
process.on('SIGTERM', () => process.exit(0))
`

/** Starts the upstream process; resolves once it listens. */
export function startChildUpstream(name: string): Promise<ChildUpstream> {
  const child = spawn(process.execPath, ['-e', SERVER, name], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return new Promise((resolve, reject) => {
    let out = ''
    child.once('exit', (code) => reject(new Error(`upstream ${name} exited with ${code} before listening`)))
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (!out.includes('\n')) return
      resolve({
        name,
        url: `http://127.0.0.1:${Number(out.trim())}`,
        child,
        pause: () => child.kill('SIGSTOP'),
        resume: () => child.kill('SIGCONT'),
        async stop() {
          if (child.exitCode !== null || child.signalCode !== null) return
          // A stopped process takes SIGKILL at once; SIGTERM would wait for a SIGCONT.
          child.kill('SIGKILL')
          await exited
        },
      })
    })
  })
}
