/**
 * @module Random session ids for new affinity sessions.
 *
 * A synchronous randomFillSync costs microseconds whatever its size (a crypto job per call), which
 * dominated issuing a token; ids are therefore cut 8 bytes at a time from a 4 KiB batch drawn at
 * once. The id only counts live sessions (the token's HMAC is what protects the binding), but it is
 * still drawn from the CSPRNG.
 */
import { randomFillSync } from 'node:crypto'

const ID_BYTES = 8
const batch = Buffer.alloc(ID_BYTES * 512)
let offset = batch.length

/** A new random session id: base64url of 8 random bytes (11 characters). */
export function newSessionId(): string {
  if (offset === batch.length) {
    randomFillSync(batch)
    offset = 0
  }
  const id = batch.toString('base64url', offset, offset + ID_BYTES)
  offset += ID_BYTES
  return id
}
