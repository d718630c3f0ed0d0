/**
 * @module Bytes a connection sends before its first request: what an L4 load balancer adds (PROXY protocol).
 *
 * A scenario with `preamble: NAME` gets it on every connection: the readiness check, the probe, and each
 * connection of the load generator (autocannon only: it is written right after `net.connect`, before
 * autocannon's first request). Connection `i` (counted per process) gets `PREAMBLES[NAME](i)`.
 */
import net from 'node:net'

/** Distinct client addresses, one per connection (as a balancer reports each client's own). */
function clientAddress(i) {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
}

export const PREAMBLES = {
  'proxy-v1': (i) => Buffer.from(`PROXY TCP4 ${clientAddress(i)} 127.0.0.1 ${1024 + (i % 60000)} 80\r\n`, 'latin1'),
}

let connections = 0

/** A `net.connect` to `port`/`host` that first writes the named preamble. */
export function connectWithPreamble(name, port, host) {
  const socket = net.connect(port, host)
  socket.write(PREAMBLES[name](connections++))
  return socket
}

/** Makes every later `net.connect(port, host)` of this process (autocannon's) write the preamble first. */
export function installPreamble(name) {
  const connect = net.connect
  net.connect = (...args) => {
    const socket = connect(...args)
    socket.write(PREAMBLES[name](connections++))
    return socket
  }
}
