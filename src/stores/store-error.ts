/**
 * @module The typed error of an affinity store that cannot answer.
 */

/** Why the store could not answer. */
export type StoreFailure = 'circuit-open' | 'timeout' | 'error'

/**
 * Redis could not answer a command (breaker open, timeout, connection or server error). With
 * `failClosed` it reaches the request, which gets 503 `ERR_STORE_UNAVAILABLE`; otherwise the store
 * catches it and answers from local state.
 */
export class StoreUnavailableError extends Error {
  readonly code = 'ERR_STORE_UNAVAILABLE'
  readonly failure: StoreFailure

  constructor(failure: StoreFailure, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'StoreUnavailableError'
    this.failure = failure
  }
}

export function isStoreUnavailable(value: unknown): value is StoreUnavailableError {
  return value instanceof StoreUnavailableError
}
