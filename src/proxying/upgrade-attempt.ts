/**
 * @module One attempt of an upgrade at an endpoint, once Latch has connected to it: hands http-proxy
 * that connection, and bounds the wait for the endpoint's answer.
 *
 * The connection is made by the endpoint's own connector (Endpoint.openConnection: the pool's connect
 * timeout and TLS settings, the same as for requests), so a refused or timed-out connect is known
 * before http-proxy is involved and can be retried elsewhere. http-proxy's request has no timeout of
 * its own: without `timeouts.responseHeaders` an endpoint that accepts and never answers would hold
 * both connections until the client gives up, and a half-closed client never does. The timeout
 * destroys the request, and with it the upstream socket, with ERR_UPSTREAM_TIMEOUT, which reaches
 * http-proxy's error callback like any other failure.
 */
import type { ClientRequest } from 'node:http'
import type { Socket } from 'node:net'
import { ProxyError } from '../errors/proxy-error.js'

/**
 * The `agent` option of http-proxy's request: it hands the request `socket`, already connected. No
 * reuse: the request's socket is closed after a refusal and becomes the tunnel after a 101.
 */
export function connectedAgent(socket: Socket, protocol: string): { readonly protocol: string; addRequest(request: ClientRequest): void } {
  return {
    protocol,
    addRequest(request) {
      request.onSocket(socket)
    },
  }
}

/** Destroys `request` (http-proxy's request to `endpointId`) with ERR_UPSTREAM_TIMEOUT unless it is answered within `ms` (0: no limit). */
export function limitAnswerWait(request: ClientRequest, endpointId: string, ms: number): void {
  if (ms <= 0) return
  const timer = setTimeout(() => request.destroy(new ProxyError('ERR_UPSTREAM_TIMEOUT', `${endpointId} sent no response headers in time`)), ms)
  const done = (): void => clearTimeout(timer)
  request.once('response', done)
  request.once('upgrade', done)
  request.once('close', done)
}
