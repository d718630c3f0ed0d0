#!/usr/bin/env node
/**
 * @module The Docker HEALTHCHECK probe: exit 0 when Latch answers, 1 when it does not.
 *
 * Slim images have no curl, so this is plain Node. By default it reads the config the container runs
 * (`--config FILE`, same environment, so `${VAR}` resolves the same way), and sends `OPTIONS *` to its
 * first traffic listener on loopback. `OPTIONS *` is HTTP's server-wide "ping" (RFC 9110 §9.3.7):
 * Latch answers it itself, without routing or touching an upstream, so a slow or failing upstream
 * never marks the proxy unhealthy. Any HTTP response counts as alive.
 *
 * With LATCH_HEALTHCHECK_URL set (for example the admin listener's `/healthz`, once there is one),
 * that URL is fetched instead and must answer 2xx: the only change the image will need then.
 * Usage: node scripts/healthcheck.mjs --config config/latch.yaml
 */
import { request } from 'node:http'
import { parseArgs } from 'node:util'

/** Below the Dockerfile's HEALTHCHECK --timeout, so a hung probe reports why instead of being killed. */
const TIMEOUT_MS = 3000

/** Resolves with a description of the answer; rejects when nothing answered in time. */
function pingListener(host, port) {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method: 'OPTIONS', path: '*', timeout: TIMEOUT_MS, headers: { host: 'healthcheck' } }, (res) => {
      res.resume()
      resolve(`OPTIONS * on ${host}:${port} answered ${res.statusCode}`)
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)))
    req.on('error', reject)
    req.end()
  })
}

async function fetchHealthUrl(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
  await response.arrayBuffer()
  if (!response.ok) throw new Error(`${url} answered ${response.status}`)
  return `${url} answered ${response.status}`
}

/** The first traffic listener of the config, as a loopback address when it binds every interface. */
async function listenerOf(configFile) {
  const { loadConfigFile } = await import('../dist/config/load.js')
  const { parseListenAddress } = await import('../dist/net/address.js')
  const loaded = loadConfigFile(configFile)
  const address = parseListenAddress(loaded.config.listen[0].address)
  if (typeof address === 'string') throw new Error(address)
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host
  return { host, port: address.port }
}

async function main() {
  const { values } = parseArgs({ options: { config: { type: 'string' } } })
  const url = process.env.LATCH_HEALTHCHECK_URL
  if (url !== undefined && url !== '') return fetchHealthUrl(url)
  const { host, port } = await listenerOf(values.config ?? process.env.LATCH_CONFIG ?? 'config/latch.yaml')
  return pingListener(host, port)
}

main().then(
  (what) => {
    process.stdout.write(`healthy: ${what}\n`)
    process.exit(0)
  },
  (error) => {
    // fetch reports "fetch failed" and keeps the reason (ECONNREFUSED, timeout) in `cause`.
    const cause = error instanceof Error && error.cause instanceof Error ? ` (${error.cause.message})` : ''
    process.stdout.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}${cause}\n`)
    process.exit(1)
  },
)
