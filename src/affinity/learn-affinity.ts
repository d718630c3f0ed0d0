/**
 * @module `learn` affinity: stick on the application's own session id (JSESSIONID, connect.sid, Socket.IO sid).
 *
 * When an upstream response sets the id (Set-Cookie, a response header, or — for a query-parameter
 * source such as Socket.IO's `sid` — the Engine.IO handshake `{"sid":"..."}` at the start of the body),
 * Latch stores id → endpoint; later requests carrying the id go there (nginx `sticky learn`, HAProxy
 * `stick store-response`). A request without an id is balanced normally.
 */
import { parseSetCookie } from 'cookie'
import type { AffinityConfig } from '../config/affinity-schema.js'
import type { AffinityStore, MaybePromise } from '../stores/affinity-store.js'
import type { Endpoint } from '../upstream/endpoint.js'
import type { PoolView } from '../upstream/pool-view.js'
import { readCookie } from './cookie-jar.js'
import { noSession, type AffinityOutcome, type AffinityRequest, type SessionAffinity, type SessionLookup } from './session-affinity.js'
import { StoredBindings } from './stored-binding.js'
import { headerValue } from './token-affinity.js'

const HANDSHAKE_BYTES = 4096

export class LearnAffinity implements SessionAffinity {
  readonly mode = 'learn'
  readonly #bindings: StoredBindings
  readonly #source: 'cookie' | 'header' | 'query'
  readonly #name: string
  readonly #handshake: RegExp

  constructor(pool: PoolView, config: AffinityConfig, store: AffinityStore) {
    this.#bindings = new StoredBindings(pool, 'learn', store, config.learn.timeout)
    this.#source = config.learn.source
    this.#name = config.learn.source === 'header' ? config.learn.name.toLowerCase() : config.learn.name
    this.#handshake = new RegExp(`"${config.learn.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\s*:\\s*"([^"]{1,200})"`)
  }

  lookup(request: AffinityRequest): MaybePromise<SessionLookup> {
    const id = this.#requestId(request)
    return id === undefined ? noSession(false) : this.#bindings.lookup(this.#bindings.keyOf(id))
  }

  bind(lookup: SessionLookup, picked: Endpoint, _request: AffinityRequest, rebinding: boolean): MaybePromise<Endpoint> {
    return lookup.key === undefined ? picked : this.#bindings.bind(lookup, picked, rebinding)
  }

  commit(lookup: SessionLookup, endpoint: Endpoint, _outcome: AffinityOutcome | undefined, request: AffinityRequest): void {
    if (lookup.key === undefined) return
    const id = this.#requestId(request)
    if (id !== undefined) this.#bindings.touch(id, endpoint)
  }

  learn(rawHeaders: readonly Buffer[], firstChunk: Buffer | undefined, endpoint: Endpoint, request: AffinityRequest): void {
    for (const id of this.#responseIds(rawHeaders, firstChunk, request)) {
      this.#bindings.learn(this.#bindings.keyOf(id), endpoint)
      this.#bindings.touch(id, endpoint)
    }
  }

  /** True when the first body chunk should be shown to `learn` (Socket.IO handshake). */
  wantsFirstChunk(request: AffinityRequest): boolean {
    return this.#source === 'query' && this.#requestId(request) === undefined
  }

  sessionCounts(): ReadonlyMap<string, number> {
    return this.#bindings.sessionCounts()
  }

  #requestId(request: AffinityRequest): string | undefined {
    if (this.#source === 'cookie') return readCookie(request.cookieHeader, this.#name).value || undefined
    if (this.#source === 'header') return headerValue(request, this.#name) || undefined
    const query = request.target.indexOf('?')
    return query === -1 ? undefined : new URLSearchParams(request.target.slice(query + 1)).get(this.#name) || undefined
  }

  #responseIds(rawHeaders: readonly Buffer[], firstChunk: Buffer | undefined, request: AffinityRequest): string[] {
    const ids: string[] = []
    const lowerName = this.#name.toLowerCase()
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = (rawHeaders[i] as Buffer).toString('latin1').toLowerCase()
      const value = (rawHeaders[i + 1] as Buffer).toString('latin1')
      if (name === 'set-cookie' && this.#source !== 'header') {
        const cookie = parseSetCookie(value)
        if (cookie.name === this.#name && cookie.value !== undefined && cookie.value !== '') ids.push(rawCookieValue(value))
      } else if (name === lowerName && this.#source !== 'cookie') {
        ids.push(value)
      }
    }
    if (ids.length === 0 && firstChunk !== undefined && this.wantsFirstChunk(request)) {
      const match = this.#handshake.exec(firstChunk.subarray(0, HANDSHAKE_BYTES).toString('utf8'))
      if (match !== null) ids.push(match[1] as string)
    }
    return ids
  }
}

/** The cookie value exactly as the browser will send it back (not URL-decoded). */
function rawCookieValue(setCookie: string): string {
  const pair = setCookie.split(';', 1)[0] as string
  return pair.slice(pair.indexOf('=') + 1).trim()
}
