/**
 * @module The one place that reads undici and system error codes and turns them into ProxyErrors.
 */
import type { PassiveFailureKind } from '../config/health-schema.js'
import { ProxyError } from '../errors/proxy-error.js'

/** How far an attempt got before it failed. */
export const AttemptPhase = {
  /** Not yet written to a connection: connecting, or queued for one. Nothing reached the endpoint. */
  Connecting: 0,
  /** The request was (being) written; no response headers yet. */
  Sent: 1,
  /** Response headers were relayed to the client. */
  Responding: 2,
} as const
export type AttemptPhase = (typeof AttemptPhase)[keyof typeof AttemptPhase]

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])
/**
 * This process or host out of a resource: descriptors (EMFILE per process, ENFILE system-wide), socket
 * buffers, memory, or ephemeral ports (EADDRNOTAVAIL from connect). Latch's failure, never the endpoint's.
 */
const LOCAL_CODES = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL'])
/** OpenSSL verification results (X509_V_ERR_* names as Node reports them). */
const CERTIFICATE_CODES = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_REVOKED', 'HOSTNAME_MISMATCH', 'IP_ADDRESS_MISMATCH', 'INVALID_CA', 'INVALID_PURPOSE'])

/** True for a failed TLS handshake with the endpoint: untrusted or wrong certificate, or no common protocol. */
function isTlsFailure(code: string): boolean {
  return CERTIFICATE_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_')
}
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'])

/** Maps an error from undici (or from our own body streams) to the error the client will see. */
export function fromUpstreamError(error: unknown, phase: AttemptPhase, endpointId: string): ProxyError {
  if (error instanceof ProxyError) return error
  const code = (error as { code?: unknown }).code
  const text = typeof code === 'string' ? code : 'unknown'
  const message = (error as Error).message ?? String(error)
  if (LOCAL_CODES.has(text)) return new ProxyError('ERR_PROXY_RESOURCES', `Latch is out of a system resource (${text}) talking to ${endpointId}: ${message}`, { cause: error, retryAfter: 1 })
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new ProxyError('ERR_UPSTREAM_TIMEOUT', `connect to ${endpointId} timed out`, { cause: error })
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return new ProxyError('ERR_UPSTREAM_TIMEOUT', `${endpointId} sent no response headers in time`, { cause: error })
  if (code === 'UND_ERR_BODY_TIMEOUT') return new ProxyError('ERR_UPSTREAM_TIMEOUT', `${endpointId} stalled while sending the response body`, { cause: error })
  if (phase === AttemptPhase.Connecting && isTlsFailure(text)) {
    return new ProxyError('ERR_UPSTREAM_TLS', `TLS handshake with ${endpointId} failed: ${text} ${message}`, { cause: error })
  }
  if (phase === AttemptPhase.Connecting && CONNECT_CODES.has(text)) {
    return new ProxyError('ERR_UPSTREAM_CONNECT', `cannot connect to ${endpointId}: ${text} ${message}`, { cause: error })
  }
  if (RESET_CODES.has(text)) return new ProxyError('ERR_UPSTREAM_RESET', `${endpointId} closed the connection: ${message}`, { cause: error })
  return new ProxyError('ERR_UPSTREAM_RESPONSE', `invalid response from ${endpointId}: ${text} ${message}`, { cause: error })
}

/** True for a failure where nothing reached the endpoint, so any method may be retried elsewhere. */
export function isConnectFailure(error: ProxyError, phase: AttemptPhase): boolean {
  return phase === AttemptPhase.Connecting && (error.code === 'ERR_UPSTREAM_CONNECT' || error.code === 'ERR_UPSTREAM_TIMEOUT' || error.code === 'ERR_UPSTREAM_TLS')
}

/** What passive health counts a failure as; undefined for a failure that is not the endpoint's doing. */
export function passiveFailureKind(error: ProxyError): PassiveFailureKind | undefined {
  switch (error.code) {
    case 'ERR_UPSTREAM_CONNECT':
    case 'ERR_UPSTREAM_TLS':
      return 'connect'
    case 'ERR_UPSTREAM_TIMEOUT':
      return 'timeout'
    case 'ERR_UPSTREAM_RESET':
    case 'ERR_UPSTREAM_RESPONSE':
      return 'reset'
    default:
      return undefined
  }
}
