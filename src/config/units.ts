/**
 * @module Parsers for the human units used in config files: durations and byte sizes.
 */

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y

/**
 * Parses "250ms", "5s", "1m30s", "2h" to milliseconds. A number without a unit is refused
 * (`'unitless'`) except 0: nginx and Traefik read a bare number as seconds, so `interval: 2` is
 * ambiguous between tools, and reading it as 2 ms once turned a health check into a probe flood.
 */
export function parseDuration(value: string | number): number | 'unitless' | undefined {
  if (typeof value === 'number') return value === 0 ? 0 : Number.isFinite(value) && value > 0 ? 'unitless' : undefined
  const text = value.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) === 0 ? 0 : 'unitless'
  let total = 0
  DURATION_PART.lastIndex = 0
  while (DURATION_PART.lastIndex < text.length) {
    const at = DURATION_PART.lastIndex
    const match = DURATION_PART.exec(text)
    if (match === null || match.index !== at) return undefined
    total += Number(match[1]) * (DURATION_UNITS[match[2] as string] as number)
  }
  return text.length === 0 ? undefined : Math.round(total)
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1, b: 1,
  k: 1024, kib: 1024, kb: 1000,
  m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
}

/** Parses "16KiB", "10MiB", "1MB", "512k" (nginx-style k/m/g are binary) or a number of bytes. */
export function parseSize(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value.trim())
  if (match === null) return undefined
  const unit = SIZE_UNITS[(match[2] as string).toLowerCase()]
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit)
}
