/**
 * @module Reusable field types for the config schema, each with a precise "what is expected" message.
 */
import { z } from 'zod'
import { checkCidr, parseListenAddress } from '../net/address.js'
import { closest } from './schema-issues.js'
import { parseDuration, parseSize } from './units.js'

const scalar = (expected: string) => z.union([z.number(), z.string()], { error: `expected ${expected}` })

/** Parses a duration value to milliseconds, or reports why it is not one. */
function durationMs(value: string | number, ctx: z.RefinementCtx): number {
  const ms = parseDuration(value)
  if (ms === 'unitless') {
    ctx.addIssue({ code: 'custom', input: value, message: `${describeBare(value)} has no unit — write "${String(value).trim()}s" for seconds or "${String(value).trim()}ms" for milliseconds` })
    return z.NEVER
  }
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', input: value, message: `invalid duration ${JSON.stringify(value)} — expected a duration such as 250ms, 5s or 1m` })
    return z.NEVER
  }
  return ms
}

/** A duration such as "250ms", "5s", "1m30s" (or 0); parses to milliseconds. */
export const duration = () => scalar('a duration such as 250ms, 5s or 1m').transform(durationMs)

/** `2` as written, `"2"` for a string (a quoted value or a substituted variable). */
function describeBare(value: string | number): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value.trim())
}

/**
 * One of `keywords`, or any other name (e.g. `hostHeader`: preserve, endpoint or a Host to send). A
 * value a few edits from a keyword, with no "." or ":" that a real host would have, is refused as a
 * typo: `endpont` would otherwise be sent as a Host name without a word.
 */
export const keywordOrName = (keywords: readonly string[], expected: string) =>
  z.string({ error: `expected ${expected}` }).min(1, { error: `expected ${expected}` }).superRefine((value, ctx) => {
    if (keywords.includes(value) || /[.:]/.test(value)) return
    const guess = closest(value, keywords)
    if (guess !== undefined) ctx.addIssue({ code: 'custom', input: value, message: `${JSON.stringify(value)} looks like a misspelt keyword (did you mean "${guess}"?) — expected ${expected}` })
  })

/** The longest delay a Node.js timer takes (2^31 − 1 ms, about 24.8 days); beyond it Node.js warns and does not keep the delay. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** A {@link duration} used as a socket timer: at most 24 days. */
export const timerDuration = () =>
  scalar('a duration such as 30s, 10m or 1h').transform((value, ctx) => {
    const ms = durationMs(value, ctx)
    if (ms <= MAX_TIMER_MS) return ms
    ctx.addIssue({ code: 'custom', input: value, message: `too long a duration ${JSON.stringify(value)} — expected a duration from 0 to 24d (the longest timer Node.js keeps), such as 30s, 10m or 1h` })
    return z.NEVER
  })

/** A byte size such as "16KiB", "10MiB", "1MB", or a number of bytes; parses to bytes. */
export const size = () =>
  scalar('a size such as 16KiB or 10MiB').transform((value, ctx) => {
    const bytes = parseSize(value)
    if (bytes === undefined) {
      ctx.issues.push({ code: 'custom', input: value, message: `invalid size ${JSON.stringify(value)} — expected a size such as 16KiB, 10MiB or 1MB, or a number of bytes` })
      return z.NEVER
    }
    return bytes
  })

/** A positive integer with a readable message. */
export const count = (min: number, max: number) =>
  z.int({ error: `expected a whole number from ${min} to ${max}` }).min(min, { error: `expected a whole number from ${min} to ${max}` }).max(max, { error: `expected a whole number from ${min} to ${max}` })

/** A ratio between 0 and 1 (e.g. 0.2 = 20%). */
export const ratio = () =>
  z.number({ error: 'expected a number from 0 to 1 (e.g. 0.2 for 20%)' }).min(0, { error: 'expected a number from 0 to 1' }).max(1, { error: 'expected a number from 0 to 1' })

/**
 * A `host:port` listen address; validated here, parsed again where it is bound. A bare port, also
 * written as a number (`listen: 8080`), means every interface, as `-l 8080` does.
 */
export const listenAddress = () =>
  z.preprocess(
    (value) => (typeof value === 'number' ? String(value) : value),
    z.string({ error: 'expected an address such as 0.0.0.0:8080, 127.0.0.1:8080, [::]:8080 or a port' }).superRefine((value, ctx) => {
      const parsed = parseListenAddress(value)
      if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', input: value, message: parsed })
    }),
  )

/** An IPv4/IPv6 CIDR or single address. */
export const cidr = () =>
  z.string({ error: 'expected a CIDR such as 10.0.0.0/8 or an IP address' }).superRefine((value, ctx) => {
    const problem = checkCidr(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', input: value, message: problem })
  })

/** An upstream endpoint URL: http(s)://host[:port], no path, query or credentials. */
export const endpointUrl = () =>
  z.string({ error: 'expected a URL such as http://10.0.0.1:8080' }).superRefine((value, ctx) => {
    const problem = checkEndpointUrl(value)
    if (problem !== undefined) ctx.addIssue({ code: 'custom', input: value, message: problem })
  })

function checkEndpointUrl(value: string): string | undefined {
  const expected = 'expected http://host:port or https://host:port'
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return `invalid URL ${JSON.stringify(value)} — ${expected}`
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `unsupported scheme "${url.protocol.slice(0, -1)}" in ${JSON.stringify(value)} — ${expected}`
  }
  if (url.hostname === '') return `URL ${JSON.stringify(value)} has no host — ${expected}`
  if (url.username !== '' || url.password !== '') return `URL ${JSON.stringify(value)} must not contain credentials — ${expected}`
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    return `URL ${JSON.stringify(value)} must not have a path, query or fragment (routes decide the path) — ${expected}`
  }
  return undefined
}

/** Accepts a single value or a list, always producing a list (for `listen: ":8080"`). */
export const oneOrMany = <T extends z.ZodType>(item: T) =>
  z.preprocess((value) => (value === undefined || Array.isArray(value) ? value : [value]), z.array(item))

/**
 * Lets `"http://a:1"` stand for `{ url: "http://a:1" }` (and `8080` for `{ address: 8080 }`) without
 * losing the object form's precise errors.
 */
export const shorthand = <T extends z.ZodType>(key: string, object: T) =>
  z.preprocess((value) => (typeof value === 'string' || typeof value === 'number' ? { [key]: value } : value), object)
