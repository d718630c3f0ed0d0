#!/usr/bin/env node
/**
 * @module Runs the session demo app as a process (the backends of docker-compose.yml and config/kubernetes/session-app.yaml).
 *
 * SESSION_APP_NAME names the backend (default: the host name, which is the Pod name in Kubernetes),
 * SESSION_APP_HOST / SESSION_APP_PORT choose the address (default 0.0.0.0:8080). SIGTERM or SIGINT
 * stops it after the requests in flight; a second signal exits at once.
 */
import { hostname } from 'node:os'
import { startSessionApp } from './session-app.js'

async function main(): Promise<void> {
  const portText = process.env.SESSION_APP_PORT?.trim() || '8080'
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    process.stderr.write(`session-app: SESSION_APP_PORT=${portText}: expected a port from 0 to 65535\n`)
    process.exit(2)
  }
  const app = await startSessionApp({
    name: process.env.SESSION_APP_NAME?.trim() || hostname(),
    host: process.env.SESSION_APP_HOST?.trim() || '0.0.0.0',
    port: Number(portText),
  })
  process.stdout.write(`session-app ${app.name} listening on ${app.url}\n`)
  let stopping = false
  const stop = (): void => {
    if (stopping) process.exit(1)
    stopping = true
    app.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
}

main().catch((error: unknown) => {
  process.stderr.write(`session-app: ${(error as Error).message}\n`)
  process.exit(1)
})
