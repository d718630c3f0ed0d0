/**
 * @module W3C Trace Context (https://www.w3.org/TR/trace-context/): Latch as a participant.
 *
 * When tracing is on, each proxied request gets a span id of Latch's own; the upstream receives a
 * `traceparent` whose parent-id is that span, with the client's trace id (or a new one when the
 * request came without a valid `traceparent` and `startTraces` is on). A `traceparent` that does not
 * parse is never forwarded: per the specification the trace is restarted (or, without `startTraces`,
 * dropped) and its `tracestate` discarded with it. A valid `tracestate` is passed on unchanged
 * (Latch adds no entry of its own; the specification allows that).
 *
 * Ids come from a pool of random bytes refilled 4 KiB at a time, so a request costs a hex conversion,
 * not a call into the random generator.
 */
import { randomFillSync } from 'node:crypto'

/** How a runtime treats trace headers (compiled from `tracing`). */
export interface TraceContextPolicy {
  /** Start a trace for requests without a valid `traceparent`. */
  readonly startTraces: boolean
  /** Share of the traces Latch starts that are sampled (flag 01); an incoming sampled flag is kept. */
  readonly sampleRatio: number
}

/** What a request's trace is, once the headers were read; '' everywhere when it has none. */
export interface RequestTrace {
  /** 32 lower-case hex digits. */
  traceId?: string
  /** Latch's span for this request: the parent-id the upstream sees. */
  spanId?: string
  /** The client's span (the incoming parent-id); '' for a trace Latch started. */
  parentSpanId?: string
  /** The trace flags sent upstream (bit 0: sampled). */
  traceFlags?: number
}

/** W3C flag bits Latch propagates: sampled (Level 1) and random trace id (Level 2); others are zeroed. */
const SAMPLED = 0x01
const RANDOM = 0x02
const KNOWN_FLAGS = SAMPLED | RANDOM

const POOL_SIZE = 4096
const pool = Buffer.allocUnsafe(POOL_SIZE)
let poolOffset = POOL_SIZE

/** `bytes` random bytes as lower-case hex, never all zero (an all-zero id is invalid). */
function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > POOL_SIZE) {
      randomFillSync(pool)
      poolOffset = 0
    }
    const start = poolOffset
    poolOffset += bytes
    for (let i = start; i < poolOffset; i++) if (pool[i] !== 0) return pool.toString('hex', start, poolOffset)
  }
}

/** A new span id: 16 hex digits. */
export function newSpanId(): string {
  return randomHex(8)
}

/** A new trace id: 32 hex digits. */
export function newTraceId(): string {
  return randomHex(16)
}

/** True for `length` lower-case hex digits at `start` that are not all zero. */
function isHexId(value: string, start: number, length: number): boolean {
  let nonZero = false
  for (let i = start; i < start + length; i++) {
    const code = value.charCodeAt(i)
    if (code === 0x30) continue
    if ((code < 0x31 || code > 0x39) && (code < 0x61 || code > 0x66)) return false
    nonZero = true
  }
  return nonZero
}

/** The value of two lower-case hex digits at `start`, or -1. */
function hexByte(value: string, start: number): number {
  const high = hexDigit(value.charCodeAt(start))
  const low = hexDigit(value.charCodeAt(start + 1))
  return high === -1 || low === -1 ? -1 : high * 16 + low
}

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30
  if (code >= 0x61 && code <= 0x66) return code - 0x61 + 10
  return -1
}

/**
 * Parses a `traceparent` value into `out` (trace id, parent span id, flags); false when it is invalid:
 * wrong length or separators, upper-case or non-hex digits, an all-zero id, version `ff`, or a version
 * 00 header with anything after the flags. A later version is read by its version-00 prefix when that
 * is followed by the end or a `-`, as the specification asks.
 */
export function parseTraceparent(value: string, out: RequestTrace): boolean {
  if (value.length < 55) return false
  const version = hexByte(value, 0)
  if (version === -1 || version === 0xff) return false
  if (version === 0 ? value.length !== 55 : value.length > 55 && value.charCodeAt(55) !== 0x2d) return false
  if (value.charCodeAt(2) !== 0x2d || value.charCodeAt(35) !== 0x2d || value.charCodeAt(52) !== 0x2d) return false
  if (!isHexId(value, 3, 32) || !isHexId(value, 36, 16)) return false
  const flags = hexByte(value, 53)
  if (flags === -1) return false
  out.traceId = value.slice(3, 35)
  out.parentSpanId = value.slice(36, 52)
  out.traceFlags = flags & KNOWN_FLAGS
  return true
}

/** `traceparent` header value for Latch's span. */
export function formatTraceparent(traceId: string, spanId: string, flags: number): string {
  return `00-${traceId}-${spanId}-0${flags}`
}

/**
 * Decides the request's trace from its trace headers and pushes the ones the upstream gets onto
 * `headers`. `traceparents` is how many `traceparent` headers came (more than one is invalid);
 * `tracestate` is the client's `tracestate` headers joined with commas, as RFC 9110 combines them.
 */
export function continueTrace(policy: TraceContextPolicy, traceparent: string | undefined, traceparents: number, tracestate: string | undefined, out: RequestTrace, headers: string[]): void {
  if (traceparents === 1 && parseTraceparent(traceparent as string, out)) {
    out.spanId = newSpanId()
    headers.push('traceparent', formatTraceparent(out.traceId as string, out.spanId, out.traceFlags as number))
    if (tracestate !== undefined) headers.push('tracestate', tracestate)
    return
  }
  // Absent or invalid: a new trace, or none. A garbled traceparent and its tracestate are not forwarded.
  if (!policy.startTraces) return
  out.traceId = newTraceId()
  out.spanId = newSpanId()
  out.parentSpanId = ''
  out.traceFlags = RANDOM | (policy.sampleRatio >= 1 || Math.random() < policy.sampleRatio ? SAMPLED : 0)
  headers.push('traceparent', formatTraceparent(out.traceId, out.spanId, out.traceFlags))
}

/** True when the trace's flags say it is sampled (spans are exported only for those). */
export function isSampled(flags: number | undefined): boolean {
  return flags !== undefined && (flags & SAMPLED) !== 0
}
