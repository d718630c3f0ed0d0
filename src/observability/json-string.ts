/**
 * @module JSON string literals for log lines, in pure ASCII.
 *
 * Everything outside printable ASCII is escaped as `\uXXXX`, so a line's length in characters is its
 * length in bytes (the access-log sink relies on that to cut whole-line batches without measuring), and
 * hostile input (quotes, control characters, raw non-UTF-8 bytes that Node hands over as latin1
 * characters, lone surrogates) can never break a line or the JSON.
 */

const HEX = '0123456789abcdef'

/** The escape of each ASCII code that needs one; undefined for the ones written as they are. */
const ASCII_ESCAPES: (string | undefined)[] = Array.from({ length: 128 }, (_, code) => {
  if (code === 0x22) return '\\"'
  if (code === 0x5c) return '\\\\'
  if (code === 0x0a) return '\\n'
  if (code === 0x0d) return '\\r'
  if (code === 0x09) return '\\t'
  if (code < 0x20 || code === 0x7f) return unicodeEscape(code)
  return undefined
})

function unicodeEscape(code: number): string {
  return `\\u${HEX[(code >> 12) & 15]}${HEX[(code >> 8) & 15]}${HEX[(code >> 4) & 15]}${HEX[code & 15]}`
}

/** `value` as a JSON string literal (quotes included), ASCII only. */
export function jsonString(value: string): string {
  // Fast path: most values (ids, methods, paths, names) need no escape at all.
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) return `"${escapeFrom(value, i)}"`
  }
  return `"${value}"`
}

/** `value` with every character from `start` on escaped where needed (the part before needs none). */
function escapeFrom(value: string, start: number): string {
  let out = value.slice(0, start)
  let plainFrom = start
  for (let i = start; i < value.length; i++) {
    const code = value.charCodeAt(i)
    const escape = code < 0x80 ? ASCII_ESCAPES[code] : unicodeEscape(code)
    if (escape === undefined) continue
    out += value.slice(plainFrom, i) + escape
    plainFrom = i + 1
  }
  return out + value.slice(plainFrom)
}
