/**
 * @module The few parts of the gRPC-over-HTTP/2 wire protocol Latch needs to know as a proxy
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): which requests are gRPC, the
 * `grpc-timeout` header, status codes, and the `grpc-message` encoding.
 */

/** gRPC status codes Latch answers with (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const
export type GrpcStatus = (typeof GrpcStatus)[keyof typeof GrpcStatus]

/** True for `application/grpc`, `application/grpc+proto`, `application/grpc-web…` (any case). */
export function isGrpcContentType(value: string | undefined): boolean {
  return value !== undefined && value.length >= 16 && value.slice(0, 16).toLowerCase() === 'application/grpc'
}

const TIMEOUT_UNITS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 }

/** `grpc-timeout` (1–8 digits and a unit H, M, S, m, u, n) in milliseconds; undefined when malformed. */
export function grpcTimeoutMs(value: string): number | undefined {
  const match = /^(\d{1,8})([HMSmun])$/.exec(value)
  if (match === null) return undefined
  return Math.ceil(Number(match[1]) * (TIMEOUT_UNITS[match[2] as string] as number))
}

/** `grpc-message` is percent-encoded UTF-8: everything outside printable ASCII, and `%` itself. */
export function encodeGrpcMessage(message: string): string {
  let out = ''
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Headers of a gRPC status: in the trailers, or in the head of a Trailers-Only response. */
const STATUS_HEADERS = new Set(['grpc-status', 'grpc-message', 'grpc-status-details-bin'])

/**
 * Splits the head of a response that ended with it (HEADERS with END_STREAM) into head and trailers
 * when it is a gRPC Trailers-Only response; undefined otherwise (no grpc-status in it).
 */
export function splitTrailersOnly(raw: readonly Buffer[]): { head: Buffer[]; trailers: string[] } | undefined {
  let found = false
  for (let i = 0; i < raw.length; i += 2) if ((raw[i] as Buffer).toString('latin1') === 'grpc-status') found = true
  if (!found) return undefined
  const head: Buffer[] = []
  const trailers: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1')
    if (STATUS_HEADERS.has(name)) trailers.push(name, (raw[i + 1] as Buffer).toString('latin1'))
    else head.push(raw[i] as Buffer, raw[i + 1] as Buffer)
  }
  return { head, trailers }
}
