/**
 * `tracing` and `log.accessFormat` in the config: defaults, what turns tracing on, and mistakes named
 * by key path.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { loadConfigFile } from '../../../src/config/load.js'
import { tracingEnabled } from '../../../src/config/tracing-schema.js'
import { configProblems } from '../../helpers/config-problems.js'

const dir = mkdtempSync(join(tmpdir(), 'latch-tracing-config-'))

function write(extra: object): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, stringify({ pools: [{ name: 'web', endpoints: ['http://127.0.0.1:1'] }], ...extra }))
  return file
}

describe('tracing config', () => {
  it('is off by default, with the json access format', () => {
    const { config } = loadConfigFile(write({}), {})
    expect(tracingEnabled(config.tracing)).toBe(false)
    expect(config.tracing).toEqual({ startTraces: true, sampleRatio: 1, serviceName: 'latch' })
    expect(config.log.accessFormat).toBe('json')
  })

  it('is turned on by enabled, or by an OTLP endpoint', () => {
    expect(tracingEnabled(loadConfigFile(write({ tracing: { enabled: true } }), {}).config.tracing)).toBe(true)
    const { config } = loadConfigFile(write({ tracing: { otlp: { endpoint: 'http://collector:4318/v1/traces' } } }), {})
    expect(tracingEnabled(config.tracing)).toBe(true)
    expect(config.tracing.otlp).toEqual({ endpoint: 'http://collector:4318/v1/traces', headers: {}, timeout: 10_000 })
  })

  it('names mistakes by key path', () => {
    expect(configProblems(write({ tracing: { enabled: false, otlp: { endpoint: 'http://c:4318/v1/traces' } } }))).toEqual(['tracing.enabled: exporting spans (tracing.otlp) needs tracing — remove enabled: false, or remove otlp'])
    expect(configProblems(write({ tracing: { otlp: { endpoint: 'grpc://c:4317' } } }))[0]).toMatch(/^tracing\.otlp\.endpoint: invalid OTLP endpoint "grpc:\/\/c:4317"/)
    expect(configProblems(write({ tracing: { sampleRatio: 2 } }))[0]).toMatch(/^tracing\.sampleRatio: expected a number from 0 to 1/)
  })
})

describe('log.accessFormat', () => {
  it('accepts the named formats and field lists', () => {
    expect(loadConfigFile(write({ log: { accessFormat: 'combined' } }), {}).config.log.accessFormat).toBe('combined')
    expect(loadConfigFile(write({ log: { accessFormat: ['status', 'userAgent', 'header:X-Tenant'] } }), {}).config.log.accessFormat).toEqual(['status', 'userAgent', 'header:X-Tenant'])
  })

  it('names unknown and repeated fields', () => {
    expect(configProblems(write({ log: { accessFormat: ['status', 'cookies'] } }))[0]).toMatch(/^log\.accessFormat\[1\]: unknown access-log field "cookies" — expected one of reqId, method/)
    expect(configProblems(write({ log: { accessFormat: ['status', 'status'] } }))).toEqual(['log.accessFormat[1]: status is listed twice'])
    expect(configProblems(write({ log: { accessFormat: 'apache' } }))[0]).toMatch(/^log\.accessFormat: expected json, common, combined, or a list of fields/)
  })
})
