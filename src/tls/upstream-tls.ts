/**
 * @module How Latch opens TLS connections to a pool's `https://` endpoints (requests, upgrades, probes).
 *
 * Requests and upgrade tunnels share one connector per endpoint (endpoint.ts), so both get the pool's
 * connect timeout and TLS settings.
 *
 * The SNI name and the name the certificate is checked against are the pool's `tls.servername`, else
 * the endpoint URL's host name, else (an IP address) no SNI and a check against the IP. They never
 * follow the client's Host header: undici would otherwise derive them from it, so a preserved Host
 * would decide which certificate is accepted, and every change of Host would close the endpoint's
 * pooled connections. Requests pass a constant per-endpoint `servername` for the same reason
 * (undici compares it between requests); the connector below ignores it and uses the real name.
 */
import { readFileSync } from 'node:fs'
import type { SecureClientSessionOptions } from 'node:http2'
import { isIP } from 'node:net'
import type { SecureVersion } from 'node:tls'
import type { buildConnector as UndiciConnector } from 'undici'
import type { UpstreamTlsConfig } from '../config/tls-schema.js'
import { buildConnector } from '../upstream/undici-parts.js'

/** TLS options shared by every connection of a pool (the CA file is read once per config). */
interface TlsOptions {
  readonly minVersion: SecureVersion
  readonly rejectUnauthorized?: boolean
  readonly ca?: Buffer
}

const optionsCache = new WeakMap<UpstreamTlsConfig, TlsOptions>()

function tlsOptions(tls: UpstreamTlsConfig | undefined): TlsOptions {
  if (tls === undefined) return { minVersion: 'TLSv1.2' }
  let options = optionsCache.get(tls)
  if (options === undefined) {
    options = {
      minVersion: tls.minVersion,
      rejectUnauthorized: !tls.insecureSkipVerify,
      // Checked by the config loader (config/tls-checks.ts); read again here for the pool being built.
      ...(tls.ca === undefined ? {} : { ca: readFileSync(tls.ca) }),
    }
    optionsCache.set(tls, options)
  }
  return options
}

/** The SNI name for `hostname`; undefined for an IP address without a configured name. */
export function sniName(tls: UpstreamTlsConfig | undefined, hostname: string): string | undefined {
  if (tls?.servername !== undefined) return tls.servername
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  return isIP(bare) === 0 ? hostname : undefined
}

/** An undici connector applying the pool's TLS settings (cleartext endpoints connect as usual). */
export function upstreamConnector(tls: UpstreamTlsConfig | undefined, connectTimeout: number): UndiciConnector.connector {
  const base = buildConnector({ ...tlsOptions(tls), timeout: connectTimeout })
  return (options, callback) => {
    if (options.protocol !== 'https:') return base(options, callback)
    const servername = sniName(tls, options.hostname)
    // Without a name (IP endpoint), undici derives none from the IP and Node checks the certificate against it.
    return base({ ...options, servername: servername ?? '' }, callback)
  }
}

/** node:http2 connect options for an `h2` endpoint (the same TLS settings and SNI rule as HTTP/1.1 ones). */
export function h2TlsOptions(tls: UpstreamTlsConfig | undefined, url: URL): SecureClientSessionOptions {
  const servername = sniName(tls, url.hostname)
  return { ...tlsOptions(tls), ...(servername === undefined ? {} : { servername }) }
}
