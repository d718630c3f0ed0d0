/**
 * @module Errors that stop Latch from starting after the config itself was valid.
 */

/** Stable codes for start-up failures. */
export type StartupErrorCode = 'LISTEN_FAILED' | 'UNSAFE_RUNTIME' | 'TLS_CERTIFICATE' | 'WORKER_FAILED'

/** A start-up failure with a message that says what to change. */
export class StartupError extends Error {
  readonly code: StartupErrorCode

  constructor(code: StartupErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StartupError'
    this.code = code
  }
}
