/**
 * @module A connector that sends a PROXY protocol header first on every connection it opens.
 *
 * The header precedes everything, TLS included (the receiver reads it before its TLS handshake): the
 * TCP connection is made, the header written, and for `https:` endpoints TLS is then started over
 * that connection. Each step has the pool's connect timeout (the base connector's).
 */
import type { buildConnector } from 'undici'

/** `connector` (the pool's: connect timeout, TLS settings) with `header` written first on each connection. */
export function proxyHeaderConnector(connector: buildConnector.connector, header: Buffer): buildConnector.connector {
  return (options, callback) => {
    const tls = options.protocol === 'https:'
    // The base connector would default an empty port to 80 for the cleartext step.
    const port = options.port === '' ? (tls ? '443' : '80') : options.port
    const { httpSocket: _unused, ...tcp } = options
    connector({ ...tcp, port, protocol: 'http:' }, (error, socket) => {
      if (socket === null) return callback(error as Error, null)
      socket.write(header)
      if (!tls) return callback(null, socket)
      connector({ ...options, port, httpSocket: socket }, (tlsError, secure) => {
        if (secure !== null) return callback(null, secure)
        socket.destroy()
        callback(tlsError as Error, null)
      })
    })
  }
}
