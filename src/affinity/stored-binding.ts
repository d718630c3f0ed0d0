/**
 * @module Shared steps of the store-backed modes (client-ip, learn): read, claim, rebind, refresh.
 */
import { whenReady, type AffinityStore, type Binding, type MaybePromise } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolView } from '../upstream/pool-view.js'
import { noSession, type SessionLookup } from './session-affinity.js'

/** Bindings of one pool and mode in the store, with a sliding `ttlMs`. */
export class StoredBindings {
  readonly scope: string
  readonly #pool: PoolView
  readonly #store: AffinityStore
  readonly #ttlMs: number

  constructor(pool: PoolView, mode: string, store: AffinityStore, ttlMs: number) {
    this.scope = `${pool.name}:${mode}`
    this.#pool = pool
    this.#store = store
    this.#ttlMs = ttlMs
  }

  /** Store key of a session id in this scope. */
  keyOf(sessionId: string): string {
    return `${this.scope}:${sessionId}`
  }

  /** The binding of `key`, refreshed past half-life (not on every request). */
  lookup(key: string): MaybePromise<SessionLookup> {
    return whenReady(this.#store.get(key), (binding) => this.#toLookup(key, binding))
  }

  /** First binding wins (claim) or compare-and-set move (rebind); resolves to the endpoint to use. */
  bind(lookup: SessionLookup, picked: Endpoint, rebinding: boolean): MaybePromise<Endpoint> {
    const key = lookup.key as string
    // A binding to an endpoint that left the pool is replaced too (a claim would keep returning it).
    const old = lookup.bound?.id ?? lookup.goneId
    const result = rebinding && old !== undefined
      ? this.#store.rebind(key, picked.id, this.#ttlMs, old)
      : this.#store.claim(key, picked.id, this.#ttlMs)
    return whenReady(result, (binding) => {
      const winner = this.#pool.endpoint(binding.endpointId)
      return winner !== undefined && winner.servesBoundSessions ? winner : picked
    })
  }

  /** Claims `key` for `endpoint` without waiting (learning from a response). */
  learn(key: string, endpoint: Endpoint): void {
    void Promise.resolve(this.#store.claim(key, endpoint.id, this.#ttlMs)).catch(() => undefined)
  }

  /** Counts the session as live on `endpoint`. */
  touch(sessionId: string, endpoint: Endpoint): void {
    this.#store.touchSession(this.scope, sessionId, endpoint.id, this.#ttlMs)
  }

  sessionCounts(): ReadonlyMap<string, number> {
    return this.#store.sessionCounts(this.scope)
  }

  #toLookup(key: string, binding: Binding | undefined): SessionLookup {
    if (binding === undefined) return noSession(true, undefined, key)
    if (binding.expiresAt - Date.now() < this.#ttlMs / 2) this.#store.refresh(key, this.#ttlMs)
    const bound = this.#pool.endpoint(binding.endpointId)
    if (bound === undefined) return { bound, boundGone: true, goneId: binding.endpointId, problem: undefined, key, token: undefined, bindable: true }
    return { bound, boundGone: false, problem: undefined, key, token: undefined, bindable: true }
  }
}
