/**
 * @module Stable endpoint identity: `host:port`, the same on every replica that sees the same endpoint.
 */

/** `http://10.0.0.1` → `10.0.0.1:80`; `https://[::1]:8443` → `[::1]:8443`. */
export function endpointIdOf(url: URL): string {
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port
  return `${url.hostname}:${port}`
}
