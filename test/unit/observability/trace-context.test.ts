/**
 * W3C Trace Context as Latch takes part in it: which `traceparent` values are valid (the
 * specification's rules), and what the upstream receives for a valid, an absent and an invalid one.
 */
import { describe, expect, it } from 'vitest'
import { continueTrace, formatTraceparent, isSampled, parseTraceparent, type RequestTrace, type TraceContextPolicy } from '../../../src/observability/trace-context.js'

const TRACE = '0af7651916cd43dd8448eb211c80319c'
const PARENT = 'b7ad6b7169203331'
const VALID = `00-${TRACE}-${PARENT}-01`
const START: TraceContextPolicy = { startTraces: true, sampleRatio: 1 }

function run(policy: TraceContextPolicy, traceparent: string | undefined, count = traceparent === undefined ? 0 : 1, tracestate?: string): { out: RequestTrace; headers: string[] } {
  const out: RequestTrace = {}
  const headers: string[] = []
  continueTrace(policy, traceparent, count, tracestate, out, headers)
  return { out, headers }
}

describe('parseTraceparent', () => {
  it('reads the example of the specification', () => {
    const out: RequestTrace = {}
    expect(parseTraceparent(VALID, out)).toBe(true)
    expect(out).toEqual({ traceId: TRACE, parentSpanId: PARENT, traceFlags: 1 })
  })

  it.each([
    ['empty', ''],
    ['upper-case hex', `00-${TRACE.toUpperCase()}-${PARENT}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${PARENT}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version ff', `ff-${TRACE}-${PARENT}-01`],
    ['version 00 with more after the flags', `${VALID}-extra`],
    ['short trace id', `00-${TRACE.slice(1)}-${PARENT}-01`],
    ['wrong separator', `00_${TRACE}-${PARENT}-01`],
    ['non-hex flags', `00-${TRACE}-${PARENT}-0g`],
    ['non-hex version', `0x-${TRACE}-${PARENT}-01`],
    ['garbage', 'hello'],
    ['a later version followed by something other than "-"', `01-${TRACE}-${PARENT}-01x`],
  ])('refuses %s', (_name, value) => {
    expect(parseTraceparent(value, {})).toBe(false)
  })

  it('reads a later version by its version-00 prefix', () => {
    const out: RequestTrace = {}
    expect(parseTraceparent(`cc-${TRACE}-${PARENT}-01-what-the-future-holds`, out)).toBe(true)
    expect(out.traceId).toBe(TRACE)
  })

  it('keeps only the flags it knows (sampled, random)', () => {
    const out: RequestTrace = {}
    expect(parseTraceparent(`00-${TRACE}-${PARENT}-ff`, out)).toBe(true)
    expect(out.traceFlags).toBe(3)
  })
})

describe('continueTrace', () => {
  it('continues a valid trace with a new span of its own as the upstream parent, tracestate unchanged', () => {
    const { out, headers } = run(START, VALID, 1, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7')
    expect(out.traceId).toBe(TRACE)
    expect(out.parentSpanId).toBe(PARENT)
    expect(out.spanId).toMatch(/^[0-9a-f]{16}$/)
    expect(out.spanId).not.toBe(PARENT)
    expect(headers).toEqual(['traceparent', `00-${TRACE}-${out.spanId}-01`, 'tracestate', 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'])
  })

  it('keeps an unsampled flag', () => {
    const { out, headers } = run(START, `00-${TRACE}-${PARENT}-00`)
    expect(isSampled(out.traceFlags)).toBe(false)
    expect(headers[1]).toMatch(/-00$/)
  })

  it('starts a trace when none came, sampled by sampleRatio', () => {
    const { out, headers } = run(START, undefined)
    expect(out.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(out.parentSpanId).toBe('')
    expect(headers).toEqual(['traceparent', formatTraceparent(out.traceId as string, out.spanId as string, 3)])
    expect(isSampled(run({ startTraces: true, sampleRatio: 0 }, undefined).out.traceFlags)).toBe(false)
  })

  it('restarts the trace on an invalid traceparent, and forwards neither it nor its tracestate', () => {
    const { out, headers } = run(START, 'garbage', 1, 'a=1')
    expect(out.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(headers).toHaveLength(2)
    expect(headers[0]).toBe('traceparent')
    expect(headers[1]).not.toContain('garbage')
  })

  it('treats two traceparent headers as invalid', () => {
    const { out } = run(START, VALID, 2)
    expect(out.traceId).not.toBe(TRACE)
  })

  it('without startTraces: continues valid traces only, drops invalid ones', () => {
    const off: TraceContextPolicy = { startTraces: false, sampleRatio: 1 }
    expect(run(off, undefined).headers).toEqual([])
    expect(run(off, 'garbage', 1, 'a=1').headers).toEqual([])
    expect(run(off, VALID).out.traceId).toBe(TRACE)
  })

  it('gives every request its own ids', () => {
    const ids = new Set(Array.from({ length: 2000 }, () => run(START, undefined).out.spanId))
    expect(ids.size).toBe(2000)
  })
})
