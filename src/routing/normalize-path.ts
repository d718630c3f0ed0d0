/**
 * @module Canonical request paths: the router and the upstream always see the same path.
 *
 * One function decides what a path means (RFC 3986 §6.2.2): percent-encoded unreserved characters
 * are decoded, other escapes get upper-case hex, dot-segments are resolved (§5.2.4) and duplicate
 * slashes merged. Forms that different servers read differently are refused instead of guessed:
 * an encoded "/" or "\" (%2F, %5C), NUL or control characters, a raw "\", broken escapes, and
 * dot-segments carrying parameters ("..;", a Tomcat path-confusion vector).
 */

const HEX = '0123456789ABCDEF'

function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48
  if (code >= 65 && code <= 70) return code - 55
  if (code >= 97 && code <= 102) return code - 87
  return -1
}

function isUnreserved(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 45 || code === 46 || code === 95 || code === 126
}

/** True when `path` is already canonical; the common case costs one scan and no allocation. */
function isCanonical(path: string): boolean {
  let previous = 0
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i)
    if (code === 37 /* % */ || code === 92 /* \ */ || code < 32 || code === 127) return false
    if (previous === 47 /* / */ && (code === 47 || code === 46 /* . */)) return false
    previous = code
  }
  return true
}

/**
 * Returns the canonical form of an origin-form path (no query), or `undefined` when the path is
 * ambiguous or malformed and must be answered with 400.
 */
export function normalizePath(path: string): string | undefined {
  if (path.charCodeAt(0) !== 47) return undefined
  if (isCanonical(path)) return path
  const decoded = decodeUnreserved(path)
  if (decoded === undefined) return undefined
  return removeDotSegments(decoded)
}

function decodeUnreserved(path: string): string | undefined {
  let out = ''
  for (let i = 0; i < path.length; i++) {
    const code = path.charCodeAt(i)
    if (code === 92 || code < 32 || code === 127) return undefined
    if (code !== 37) {
      out += path[i]
      continue
    }
    const high = hexValue(path.charCodeAt(i + 1))
    const low = hexValue(path.charCodeAt(i + 2))
    if (high < 0 || low < 0) return undefined
    const value = high * 16 + low
    if (value === 0x2f || value === 0x5c || value < 0x20 || value === 0x7f) return undefined
    out += isUnreserved(value) ? String.fromCharCode(value) : `%${HEX[high]}${HEX[low]}`
    i += 2
  }
  return out
}

function removeDotSegments(path: string): string | undefined {
  const segments = path.split('/')
  const out: string[] = []
  let trailingSlash = false
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string
    const last = i === segments.length - 1
    if (segment === '' || segment === '.') {
      trailingSlash = last
      continue
    }
    if (segment === '..') {
      out.pop()
      trailingSlash = last
      continue
    }
    if (segment.startsWith('.;') || segment.startsWith('..;')) return undefined
    out.push(segment)
    trailingSlash = false
  }
  if (out.length === 0) return '/'
  return `/${out.join('/')}${trailingSlash ? '/' : ''}`
}
