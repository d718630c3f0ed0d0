/**
 * @module The affinity store contract: what bindings a request cannot carry itself, shared by replicas.
 *
 * Two implementations (memory, Redis) pass one contract test suite. Values may come back
 * synchronously (memory, or a Redis local-cache hit) or as a promise; callers handle both, so the
 * common case costs no microtask.
 */

export type MaybePromise<T> = T | Promise<T>

/** A session's binding: its endpoint id and when it lapses (ms since epoch). */
export interface Binding {
  readonly endpointId: string
  readonly expiresAt: number
}

/** Where affinity state lives. Keys are already namespaced by the caller (pool and mode). */
export interface AffinityStore {
  readonly kind: 'memory' | 'redis'
  /**
   * How far `sessionCounts` may lag behind this process's own bindings and touches: 0 when counts are
   * live (in-process memory), about two refresh periods when they are fetched from a shared store
   * (workers' primary, Redis). Least-sessions adds its own recent picks for that long.
   */
  readonly liveCountsLagMs: number
  /** The binding of `key`, or undefined when absent or expired. */
  get(key: string): MaybePromise<Binding | undefined>
  /** Binds `key` unless it is bound already (first binding wins); resolves to the binding in force. */
  claim(key: string, endpointId: string, ttlMs: number): MaybePromise<Binding>
  /**
   * Moves `key` to `endpointId` if it is still bound to `expectedOld` (or absent): every replica that
   * saw the same failure moves the session to the same place. Resolves to the binding in force.
   */
  rebind(key: string, endpointId: string, ttlMs: number, expectedOld: string): MaybePromise<Binding>
  /** Extends a binding's lifetime (callers refresh only past half-life, not per request). */
  refresh(key: string, ttlMs: number): void
  /** Records that a session was seen on an endpoint, for live-session counts (throttled by callers). */
  touchSession(scope: string, sessionId: string, endpointId: string, ttlMs: number): void
  /** Live sessions per endpoint id in `scope` (cluster-wide when shared; may lag by a second). */
  sessionCounts(scope: string): ReadonlyMap<string, number>
  close(): Promise<void>
}

/** Calls `next` with the value, synchronously when it is not a promise. */
export function whenReady<T, R>(value: MaybePromise<T>, next: (resolved: T) => MaybePromise<R>): MaybePromise<R> {
  return value instanceof Promise ? value.then(next) : next(value)
}
