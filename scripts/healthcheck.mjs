#!/usr/bin/env node
/**
 * @module The Docker HEALTHCHECK probe: exit 0 when Latch answers, 1 when it does not.
 *
 * Slim images have no curl, so this is plain Node. It reads the config the container runs
 * (`--config FILE`, same environment, so `${VAR}` resolves the same way) and asks the instance:
 * - with an admin listener (the default): `GET /healthz` on it, which must answer 2xx;
 * - with `admin.listen: false`: `OPTIONS *` to the first traffic listener. That is HTTP's
 *   server-wide "ping" (RFC 9110 §9.3.7); Latch answers it itself, without routing or touching an
 *   upstream, so any HTTP answer counts as alive and a failing upstream never marks Latch unhealthy.
 * Wildcard addresses (0.0.0.0, ::) are probed on loopback. LATCH_HEALTHCHECK_URL, when set, is
 * fetched instead of either (must answer 2xx).
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

/** The admin listener of the config (or, without one, its first traffic listener), on loopback when it binds every interface. */
async function targetOf(configFile) {
  const { loadConfigFile } = await import('../dist/config/load.js')
  const { parseListenAddress } = await import('../dist/net/address.js')
  const { config } = loadConfigFile(configFile)
  const admin = config.admin.listen !== false
  const address = parseListenAddress(admin ? config.admin.listen : config.listen[0].address)
  if (typeof address === 'string') throw new Error(address)
  const host = address.host === '0.0.0.0' ? '127.0.0.1' : address.host === '::' ? '::1' : address.host
  return { admin, host, port: address.port }
}

async function main() {
  const { values } = parseArgs({ options: { config: { type: 'string' } } })
  const url = process.env.LATCH_HEALTHCHECK_URL
  if (url !== undefined && url !== '') return fetchHealthUrl(url)
  const { admin, host, port } = await targetOf(values.config ?? process.env.LATCH_CONFIG ?? 'config/latch.yaml')
  return admin ? fetchHealthUrl(`http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`) : pingListener(host, port)
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
