/**
 * @module Converts an upstream response's raw headers into the list written to the client.
 *
 * undici hands headers over as raw byte buffers; they are decoded as latin1 so every byte round-trips
 * unchanged, hop-by-hop headers (and any the upstream's Connection header names) are dropped, and
 * repeated headers such as Set-Cookie stay separate entries.
 */
import { connectionListed, isHopByHop } from './hop-by-hop.js'

/** Builds the client-facing header list; `requestIdHeader` is added unless the upstream sent one. */
export function clientResponseHeaders(raw: readonly Buffer[], requestIdHeader: string, requestId: string): string[] {
  const out: string[] = []
  let connection: string | undefined
  let hasRequestId = false
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1')
    const value = (raw[i + 1] as Buffer).toString('latin1')
    if (isHopByHop(name)) {
      if (name.length === 10 && name.toLowerCase() === 'connection') connection = connection === undefined ? value : `${connection}, ${value}`
      continue
    }
    if (name.length === requestIdHeader.length && name.toLowerCase() === requestIdHeader) hasRequestId = true
    out.push(name, value)
  }
  if (!hasRequestId) out.push(requestIdHeader, requestId)
  return connection === undefined ? out : dropListed(out, connection)
}

function dropListed(headers: string[], connection: string): string[] {
  const listed = connectionListed(connection)
  if (listed === undefined) return headers
  const kept: string[] = []
  for (let i = 0; i < headers.length; i += 2) {
    if (!listed.has((headers[i] as string).toLowerCase())) kept.push(headers[i] as string, headers[i + 1] as string)
  }
  return kept
}

/** Trailer pairs as `[name, value]` tuples for `res.addTrailers`, hop-by-hop names removed. */
export function trailerPairs(raw: readonly (Buffer | string)[]): [string, string][] {
  const out: [string, string][] = []
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1')
    if (!isHopByHop(name)) out.push([name, raw[i + 1]!.toString('latin1')])
  }
  return out
}

/** `Link` values of a 103 Early Hints response. */
export function earlyHintLinks(raw: readonly Buffer[]): string[] {
  const links: string[] = []
  for (let i = 0; i < raw.length; i += 2) {
    if ((raw[i] as Buffer).toString('latin1').toLowerCase() === 'link') links.push((raw[i + 1] as Buffer).toString('latin1'))
  }
  return links
}
