/**
 * @module Request ids: unique across processes and restarts, cheap enough for every request.
 *
 * A random 64-bit prefix drawn at start plus a counter gives ids that never repeat within a process
 * and collide across processes with negligible probability, at a fraction of randomUUID's cost.
 */
import { randomBytes } from 'node:crypto'

const PREFIX = randomBytes(8).toString('hex')
let counter = 0

/** A new request id such as `9f3c0a1b2c3d4e5f-1a2b`. */
export function nextRequestId(): string {
  counter = counter === Number.MAX_SAFE_INTEGER ? 1 : counter + 1
  return `${PREFIX}-${counter.toString(36)}`
}
