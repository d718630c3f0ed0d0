/**
 * @module Starts the upstreams: one process with three listeners, node:http (default) or nginx (`--upstream nginx`).
 */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { spawnTracked } from './processes.mjs'
import { waitForHttp200, waitForLogValue } from './probe.mjs'
import { upstreamBody } from './upstream-body.mjs'

const SERVER_SCRIPT = new URL('./upstream-server.mjs', import.meta.url).pathname
const READY_MS = 15_000

/** Whether a command is on PATH. */
export function hasCommand(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0
}

/** Starts `count` upstreams of `kind` on loopback; resolves `{ kind, urls, record }`. */
export async function startUpstreams({ kind, count, cpu, dir, maxSeconds }) {
  const started = kind === 'nginx' ? await startNginx(count, cpu, dir) : await startNode(count, cpu, dir, maxSeconds)
  const urls = started.ports.map((port) => `http://127.0.0.1:${port}`)
  for (const url of urls) await waitForHttp200(url, started.record, READY_MS)
  return { kind, urls, record: started.record }
}

async function startNode(count, cpu, dir, maxSeconds) {
  const logFile = join(dir, 'upstream.log')
  // stdin is a pipe: the server exits when it closes, i.e. when this benchmark process dies.
  const record = spawnTracked('upstream (node:http)', process.execPath, [SERVER_SCRIPT, String(count), String(maxSeconds)], {
    cpu,
    logFile,
    stdin: 'pipe',
  })
  return { record, ports: await waitForLogValue(record, (line) => line.ports, READY_MS) }
}

/** A free loopback port: nginx cannot listen on port 0 and report it, so one is reserved and released. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

function nginxConfig(ports) {
  const servers = ports.map((port, i) => {
    const body = upstreamBody(`u${i + 1}`).toString().replace('\n', '\\n')
    return `  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / {
      add_header x-upstream u${i + 1} always;
      add_header x-client $http_x_client always;
      return 200 "${body}";
    }
  }`
  })
  return `worker_processes 1;
daemon off;
pid nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  server_tokens off;
  default_type text/plain;
  keepalive_requests 1000000;
  keepalive_timeout 120s;
  client_body_temp_path tmp-body;
  proxy_temp_path tmp-proxy;
  fastcgi_temp_path tmp-fastcgi;
  uwsgi_temp_path tmp-uwsgi;
  scgi_temp_path tmp-scgi;
${servers.join('\n')}
}
`
}

async function startNginx(count, cpu, dir) {
  const ports = []
  for (let i = 0; i < count; i++) ports.push(await freePort())
  writeFileSync(join(dir, 'nginx.conf'), nginxConfig(ports))
  const record = spawnTracked('upstream (nginx)', 'nginx', ['-p', `${dir}/`, '-e', 'stderr', '-c', 'nginx.conf'], {
    cpu,
    cwd: dir,
    logFile: join(dir, 'upstream.log'),
  })
  return { record, ports }
}
