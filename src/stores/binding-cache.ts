/**
 * @module Recent bindings kept in this process by the Redis store.
 *
 * An entry fetched within `freshMs` answers a lookup without a Redis round trip (a rebind anywhere
 * invalidates it through pub/sub). Any unexpired entry is the fallback while Redis is unreachable,
 * and entries made during an outage are marked dirty until they are written back. Bounded: the
 * oldest entry goes first (Map iteration is insertion order; a put moves an entry to the end).
 */
import type { Binding } from './affinity-store.js'

interface Entry {
  readonly binding: Binding
  readonly fetchedAt: number
  /** Made or extended while Redis was unreachable, not written back yet. */
  readonly dirty: boolean
}

/** A bounded map of bindings with fetch times. */
export class BindingCache {
  readonly #entries = new Map<string, Entry>()
  readonly #maxEntries: number
  readonly #freshMs: number

  constructor(maxEntries: number, freshMs: number) {
    this.#maxEntries = maxEntries
    this.#freshMs = freshMs
  }

  get size(): number {
    return this.#entries.size
  }

  /** The binding when it was read from Redis less than `freshMs` ago. */
  fresh(key: string, now: number): Binding | undefined {
    const entry = this.#entries.get(key)
    return entry !== undefined && !entry.dirty && now - entry.fetchedAt < this.#freshMs && entry.binding.expiresAt > now ? entry.binding : undefined
  }

  /** Any unexpired binding (the fallback while Redis is unreachable). */
  any(key: string, now: number): Binding | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.binding.expiresAt > now) return entry.binding
    this.#entries.delete(key)
    return undefined
  }

  put(key: string, binding: Binding, now: number, dirty = false): void {
    if (this.#maxEntries === 0) return
    this.#entries.delete(key)
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
    this.#entries.set(key, { binding: { endpointId: binding.endpointId, expiresAt: binding.expiresAt }, fetchedAt: now, dirty })
  }

  /** No entry is fresh any more (invalidations may have been missed); all stay as fallback. */
  staleAll(): void {
    for (const [key, entry] of this.#entries) if (entry.fetchedAt !== -Infinity) this.#entries.set(key, { ...entry, fetchedAt: -Infinity })
  }

  /** Forgets `key` unless it holds a binding not written back yet. */
  invalidate(key: string): void {
    if (this.#entries.get(key)?.dirty !== true) this.#entries.delete(key)
  }

  /** Unexpired entries, those not written back first. */
  unexpired(now: number): [string, Binding][] {
    const dirty: [string, Binding][] = []
    const clean: [string, Binding][] = []
    for (const [key, entry] of this.#entries) {
      if (entry.binding.expiresAt <= now) this.#entries.delete(key)
      else (entry.dirty ? dirty : clean).push([key, entry.binding])
    }
    return [...dirty, ...clean]
  }

  sweep(now: number): void {
    for (const [key, entry] of this.#entries) if (entry.binding.expiresAt <= now) this.#entries.delete(key)
  }
}
