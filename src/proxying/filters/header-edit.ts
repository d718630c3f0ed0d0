/**
 * @module Gateway API `RequestHeaderModifier` / `ResponseHeaderModifier` (HTTPHeaderFilter) on a
 * flat `[name, value, ...]` header list, as undici takes request headers and Node's writeHead takes
 * response headers.
 *
 * Semantics (httproute_types.go, conformance HTTPRouteRequestHeaderModifier and
 * HTTPRouteResponseHeaderModifier): names match case-insensitively; `set` replaces every value of
 * the header with one; `add` appends to the existing value (`foo` + add `bar` → `foo,bar`) or adds
 * the header; `remove` drops every occurrence. Applied in that order, so a name both added and
 * removed ends up removed. `Set-Cookie` is never comma-joined: an added one is its own line.
 */
import type { HeaderModifier } from '../../routing/route-action.js'

/**
 * Headers a filter cannot touch: Host (URLRewrite `hostname` changes it), the message framing and
 * hop-by-hop headers. Changing them would break the message or the connection, not modify the request.
 */
const PROTECTED = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer', 'proxy-connection'])

/** True for a header name a header modifier cannot change (config checks can warn about it). */
export function isProtectedHeader(name: string): boolean {
  return PROTECTED.has(name.toLowerCase())
}

/** A compiled header modifier. */
export class HeaderEdit {
  readonly #set: readonly (readonly [lower: string, name: string, value: string])[]
  readonly #add: readonly (readonly [lower: string, name: string, value: string])[]
  readonly #remove: ReadonlySet<string>
  /** Every lower-case name the edit touches (to find them in one pass). */
  readonly #touched: ReadonlySet<string>

  constructor(modifier: HeaderModifier) {
    const keep = ([name]: readonly [string, string]): boolean => !isProtectedHeader(name)
    this.#set = modifier.set.filter(keep).map(([name, value]) => [name.toLowerCase(), name, value] as const)
    this.#add = modifier.add.filter(keep).map(([name, value]) => [name.toLowerCase(), name, value] as const)
    this.#remove = new Set(modifier.remove.map((name) => name.toLowerCase()).filter((name) => !isProtectedHeader(name)))
    this.#touched = new Set([...this.#set.map(([lower]) => lower), ...this.#add.map(([lower]) => lower), ...this.#remove])
  }

  /** True when the modifier changes nothing Latch may change (every name it named is protected). */
  get empty(): boolean {
    return this.#touched.size === 0
  }

  /**
   * Applies the edit to `headers` from index `from` on (entries before it, e.g. the Host pair of an
   * upstream request, are left alone). Returns the edited list (a new one when entries were removed).
   */
  apply(headers: string[], from: number): string[] {
    let out = headers
    for (const [lower, name, value] of this.#set) {
      const at = this.#first(out, from, lower)
      if (at === -1) {
        out.push(name, value)
        continue
      }
      out[at + 1] = value
      out = dropAll(out, at + 2, lower)
    }
    for (const [lower, name, value] of this.#add) {
      const at = lower === 'set-cookie' ? -1 : this.#last(out, from, lower)
      if (at === -1) out.push(name, value)
      else out[at + 1] = `${out[at + 1] as string},${value}`
    }
    for (const lower of this.#remove) out = dropAll(out, from, lower)
    return out
  }

  #first(headers: readonly string[], from: number, lower: string): number {
    for (let i = from; i < headers.length; i += 2) if (sameName(headers[i] as string, lower)) return i
    return -1
  }

  #last(headers: readonly string[], from: number, lower: string): number {
    for (let i = headers.length - 2; i >= from; i -= 2) if (sameName(headers[i] as string, lower)) return i
    return -1
  }
}

function sameName(name: string, lower: string): boolean {
  return name.length === lower.length && name.toLowerCase() === lower
}

/** `headers` without the entries named `lower` from index `from` on (the same list when there are none). */
function dropAll(headers: string[], from: number, lower: string): string[] {
  let i = from
  while (i < headers.length && !sameName(headers[i] as string, lower)) i += 2
  if (i >= headers.length) return headers
  const kept = headers.slice(0, i)
  for (i += 2; i < headers.length; i += 2) {
    const name = headers[i] as string
    if (!sameName(name, lower)) kept.push(name, headers[i + 1] as string)
  }
  return kept
}
