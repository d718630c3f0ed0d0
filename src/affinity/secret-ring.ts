/**
 * @module The secrets that sign affinity tokens: the first signs, every one verifies (rotation).
 */
import { createHash, randomBytes } from 'node:crypto'

/** One secret with its short public fingerprint (carried in tokens to pick the verifying key). */
export interface SigningKey {
  readonly secret: Buffer
  /** 16-bit fingerprint of the secret; not secret itself. */
  readonly id: number
}

/** The current keys. Replaced as a whole (e.g. when a shared secret arrives from Redis). */
export class SecretRing {
  #keys: readonly SigningKey[]
  /** True when the secret was generated at start (replicas will not share sessions). */
  generated: boolean

  /**
   * `generatedSecret` is used when no secret is configured, instead of a random one: the worker
   * processes of one Latch get theirs from the supervisor, so they all verify each other's tokens.
   */
  constructor(secrets: readonly string[], generatedSecret?: string) {
    this.generated = secrets.length === 0
    this.#keys = (this.generated ? [generatedSecret ?? randomSecret()] : secrets).map(toKey)
  }

  /** The key new tokens are signed with. */
  get signing(): SigningKey {
    return this.#keys[0] as SigningKey
  }

  /** Every key that verifies, signing key first. */
  get keys(): readonly SigningKey[] {
    return this.#keys
  }

  /** Replaces the secrets (keeps `generated` false: the new ones are shared or configured). */
  replace(secrets: readonly string[]): void {
    this.#keys = secrets.map(toKey)
    this.generated = false
  }
}

/** A fresh random secret (256 bits). */
export function randomSecret(): string {
  return randomBytes(32).toString('base64url')
}

function toKey(secret: string): SigningKey {
  const buffer = Buffer.from(secret, 'utf8')
  return { secret: buffer, id: createHash('sha256').update(buffer).digest().readUInt16BE(0) }
}
