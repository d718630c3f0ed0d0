/**
 * @module Reads and removes one cookie in a `Cookie` header, noticing duplicates.
 *
 * The `cookie` package parses a header into an object and keeps the first of duplicate names, which
 * would let a client smuggle a second affinity cookie unnoticed; Latch needs "is it there once, and
 * what is its value", and to drop it before forwarding. `Set-Cookie` is built with the package.
 */

/** The value of cookie `name` and how many times it occurs (0 when absent). */
export interface CookieRead {
  readonly value: string | undefined
  readonly count: number
}

const ABSENT: CookieRead = { value: undefined, count: 0 }

/** Finds `name=` at cookie-pair boundaries of a Cookie header (RFC 6265 §4.2.1, `; ` separated). */
export function readCookie(header: string | undefined, name: string): CookieRead {
  if (header === undefined || header.length === 0) return ABSENT
  let value: string | undefined
  let count = 0
  let at = header.indexOf(name)
  while (at !== -1) {
    const boundary = at === 0 || header.charCodeAt(at - 1) === 59 /* ; */ || header.charCodeAt(at - 1) === 32 /* space */
    const equals = at + name.length
    if (boundary && header.charCodeAt(equals) === 61 /* = */ && isPairStart(header, at)) {
      count++
      if (value === undefined) {
        const end = header.indexOf(';', equals)
        value = header.slice(equals + 1, end === -1 ? header.length : end).trim()
      }
    }
    at = header.indexOf(name, equals)
  }
  return count === 0 ? ABSENT : { value, count }
}

function isPairStart(header: string, at: number): boolean {
  let i = at - 1
  while (i >= 0 && header.charCodeAt(i) === 32) i--
  return i < 0 || header.charCodeAt(i) === 59
}

/**
 * The header without any `name=` pair (pairs trimmed, joined with "; "); undefined when nothing else is
 * left. Runs on every request with an affinity cookie, so it scans in place instead of splitting.
 */
export function withoutCookie(header: string, name: string): string | undefined {
  let kept = ''
  let start = 0
  while (start <= header.length) {
    let end = header.indexOf(';', start)
    if (end === -1) end = header.length
    let from = start
    let to = end
    while (from < to && isTrimmed(header.charCodeAt(from))) from++
    while (to > from && isTrimmed(header.charCodeAt(to - 1))) to--
    if (from < to && !isPairNamed(header, from, to, name)) kept = kept === '' ? header.slice(from, to) : `${kept}; ${header.slice(from, to)}`
    start = end + 1
  }
  return kept === '' ? undefined : kept
}

/** `header[from, to)` (a trimmed pair) is `name=…`, or just `name`. */
function isPairNamed(header: string, from: number, to: number, name: string): boolean {
  const after = from + name.length
  return after <= to && header.startsWith(name, from) && (after === to || header.charCodeAt(after) === 61 /* = */)
}

/** What String.prototype.trim removes, within latin1 (header strings are latin1). */
function isTrimmed(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13) || code === 160
}
