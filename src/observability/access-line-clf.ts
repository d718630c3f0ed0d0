/**
 * @module The Common and Combined Log Formats (Apache's `common` and `combined`, nginx's `combined`):
 *
 *   common:   127.0.0.1 - - [07/Dec/2026:19:44:48 +0000] "GET /path HTTP/1.1" 200 2326
 *   combined: … "referer" "user-agent"
 *
 * `%l` (identd) and `%u` (remote user) are always `-`: Latch authenticates nobody and never logs
 * credentials. The request line carries the path without its query string (queries are logged only
 * when named in a JSON field list). Times are UTC. A response without body bytes logs `-`, as CLF's
 * `%b` does. Quoted values are escaped as nginx escapes them: `"`, `\`, control characters and every
 * byte outside printable ASCII become `\xHH`, so a line never holds a bare quote and stays ASCII.
 */
import type { AccessLineFormat, AccessRecord } from './access-record.js'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const HEX = '0123456789ABCDEF'

function two(value: number): string {
  return value < 10 ? `0${value}` : String(value)
}

/** `[07/Dec/2026:19:44:48 +0000]`, cached per second. */
export class ClfClock {
  #second = -1
  #text = ''

  now(): string {
    const second = Math.floor(Date.now() / 1000)
    if (second !== this.#second) {
      this.#second = second
      const d = new Date(second * 1000)
      this.#text = `[${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000]`
    }
    return this.#text
  }
}

function byteEscape(byte: number): string {
  return `\\x${HEX[byte >> 4]}${HEX[byte & 15]}`
}

/** `value` with `"`, `\`, control characters and non-ASCII escaped as `\xHH` (of its UTF-8 bytes above U+00FF). */
export function clfEscape(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) return escapeFrom(value, i)
  }
  return value
}

function escapeFrom(value: string, start: number): string {
  let out = value.slice(0, start)
  for (let i = start; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code >= 0x20 && code <= 0x7e && code !== 0x22 && code !== 0x5c) out += value[i]
    // Node hands raw header and path bytes over as latin1 characters: one byte each.
    else if (code <= 0xff) out += byteEscape(code)
    else {
      const char = String.fromCodePoint(value.codePointAt(i) as number)
      for (const byte of Buffer.from(char, 'utf8')) out += byteEscape(byte)
      i += char.length - 1
    }
  }
  return out
}

/** A quoted field: `"value"`, or `"-"` when absent. */
function quoted(value: string | undefined): string {
  return value === undefined || value === '' ? '"-"' : `"${clfEscape(value)}"`
}

/** `common` (Common Log Format) or, with `combined`, the Combined Log Format. */
export class ClfAccessFormat implements AccessLineFormat {
  readonly #clock = new ClfClock()
  readonly #combined: boolean

  constructor(combined: boolean) {
    this.#combined = combined
  }

  format(record: AccessRecord): string {
    const host = record.clientIp === '' ? '-' : clfEscape(record.clientIp)
    const line = `${host} - - ${this.#clock.now()} "${clfEscape(record.method)} ${clfEscape(record.logPath)} HTTP/${record.httpVersion ?? '1.1'}" ${record.status} ${record.bytesOut === 0 ? '-' : record.bytesOut}`
    if (!this.#combined) return `${line}\n`
    return `${line} ${quoted(record.requestHeader?.('referer'))} ${quoted(record.requestHeader?.('user-agent'))}\n`
  }
}
