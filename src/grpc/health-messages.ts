/**
 * @module The two protobuf messages of the gRPC Health Checking Protocol (grpc/grpc-proto,
 * grpc/health/v1/health.proto), in their gRPC message frames.
 *
 * Written by hand rather than with a protobuf library: the request is one string field and the answer
 * one enum field, a dozen lines of the encoding spec (https://protobuf.dev/programming-guides/encoding/),
 * and probes then load no schema compiler into the proxy.
 */

/** `HealthCheckResponse.ServingStatus` names by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const

/** A gRPC message frame (uncompressed) holding `HealthCheckRequest { service }`. */
export function healthCheckRequestFrame(service: string): Buffer {
  const name = Buffer.from(service, 'utf8')
  // Field 1, wire type 2 (length-delimited): tag 0x0a, varint length, bytes. proto3 omits an empty string.
  const message = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a]), varint(name.length), name])
  const frame = Buffer.alloc(5 + message.length)
  frame.writeUInt8(0, 0)
  frame.writeUInt32BE(message.length, 1)
  message.copy(frame, 5)
  return frame
}

function varint(value: number): Buffer {
  const bytes: number[] = []
  let rest = value
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80)
    rest >>>= 7
  }
  bytes.push(rest)
  return Buffer.from(bytes)
}

/**
 * The serving status in a response body (one gRPC frame holding `HealthCheckResponse`): its name,
 * or a description of what is wrong with the body.
 */
export function servingStatusOf(body: Buffer): { status: string } | { problem: string } {
  if (body.length < 5) return { problem: 'no response message' }
  if (body.readUInt8(0) !== 0) return { problem: 'compressed response message' }
  const length = body.readUInt32BE(1)
  if (body.length < 5 + length) return { problem: 'truncated response message' }
  let offset = 5
  const end = 5 + length
  let status = 0
  while (offset < end) {
    const tag = readVarint(body, offset, end)
    if (tag === undefined) return { problem: 'malformed response message' }
    offset = tag.next
    const wireType = tag.value & 7
    if (wireType === 0) {
      const value = readVarint(body, offset, end)
      if (value === undefined) return { problem: 'malformed response message' }
      offset = value.next
      if (tag.value >>> 3 === 1) status = value.value
    } else if (wireType === 2) {
      const size = readVarint(body, offset, end)
      if (size === undefined) return { problem: 'malformed response message' }
      offset = size.next + size.value
    } else if (wireType === 1 || wireType === 5) {
      offset += wireType === 1 ? 8 : 4
    } else {
      return { problem: 'malformed response message' }
    }
  }
  if (offset > end) return { problem: 'malformed response message' }
  return { status: SERVING_STATUS[status] ?? `status ${status}` }
}

function readVarint(buffer: Buffer, start: number, end: number): { value: number; next: number } | undefined {
  let value = 0
  let shift = 0
  for (let offset = start; offset < end && shift < 35; offset++) {
    const byte = buffer[offset] as number
    value += (byte & 0x7f) * 2 ** shift
    if ((byte & 0x80) === 0) return { value, next: offset + 1 }
    shift += 7
  }
  return undefined
}
