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

/** The header without any `name=` pair; undefined when nothing else is left. */
export function withoutCookie(header: string, name: string): string | undefined {
  const kept: string[] = []
  for (const pair of header.split(';')) {
    const trimmed = pair.trim()
    if (trimmed === '') continue
    const equals = trimmed.indexOf('=')
    if ((equals === -1 ? trimmed : trimmed.slice(0, equals)) !== name) kept.push(trimmed)
  }
  return kept.length === 0 ? undefined : kept.join('; ')
}
