import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ConfigSchema } from '../../../src/config/schema.js'
import { encodeGrpcMessage, grpcTimeoutMs, isGrpcContentType, splitTrailersOnly } from '../../../src/grpc/grpc-wire.js'
import { healthCheckRequestFrame, servingStatusOf } from '../../../src/grpc/health-messages.js'

describe('gRPC wire helpers', () => {
  it('recognises gRPC content types only', () => {
    expect(isGrpcContentType('application/grpc')).toBe(true)
    expect(isGrpcContentType('application/grpc+proto')).toBe(true)
    expect(isGrpcContentType('Application/GRPC-web')).toBe(true)
    expect(isGrpcContentType('application/json')).toBe(false)
    expect(isGrpcContentType(undefined)).toBe(false)
  })

  it('reads grpc-timeout in every unit and refuses malformed ones', () => {
    expect(grpcTimeoutMs('1H')).toBe(3_600_000)
    expect(grpcTimeoutMs('2M')).toBe(120_000)
    expect(grpcTimeoutMs('3S')).toBe(3000)
    expect(grpcTimeoutMs('250m')).toBe(250)
    expect(grpcTimeoutMs('1500u')).toBe(2)
    expect(grpcTimeoutMs('99999999n')).toBe(100)
    expect(grpcTimeoutMs('123456789m')).toBeUndefined()
    expect(grpcTimeoutMs('10s')).toBeUndefined()
    expect(grpcTimeoutMs('')).toBeUndefined()
  })

  it('percent-encodes grpc-message as the spec says', () => {
    expect(encodeGrpcMessage('no endpoint: 100% down é\n')).toBe('no endpoint: 100%25 down %C3%A9%0A')
    expect(decodeURIComponent(encodeGrpcMessage('ünïcode ✓ 50%'))).toBe('ünïcode ✓ 50%')
  })

  it('moves the status of a Trailers-Only head into trailers, and leaves other heads alone', () => {
    const raw = ['content-type', 'application/grpc', 'grpc-status', '5', 'grpc-message', 'missing', 'x-id', '1'].map((text) => Buffer.from(text))
    const split = splitTrailersOnly(raw)
    expect(split?.head.map(String)).toEqual(['content-type', 'application/grpc', 'x-id', '1'])
    expect(split?.trailers).toEqual(['grpc-status', '5', 'grpc-message', 'missing'])
    expect(splitTrailersOnly(['content-type', 'text/plain'].map((text) => Buffer.from(text)))).toBeUndefined()
  })
})

describe('gRPC health messages', () => {
  it('frames HealthCheckRequest as protobuf', () => {
    expect(healthCheckRequestFrame('')).toEqual(Buffer.from([0, 0, 0, 0, 0]))
    expect(healthCheckRequestFrame('a.B')).toEqual(Buffer.from([0, 0, 0, 0, 5, 0x0a, 3, 0x61, 0x2e, 0x42]))
  })

  it('reads the serving status and reports malformed answers', () => {
    expect(servingStatusOf(Buffer.from([0, 0, 0, 0, 2, 0x08, 1]))).toEqual({ status: 'SERVING' })
    expect(servingStatusOf(Buffer.from([0, 0, 0, 0, 2, 0x08, 2]))).toEqual({ status: 'NOT_SERVING' })
    // proto3 leaves out a zero enum: an empty message is UNKNOWN; unknown fields are skipped.
    expect(servingStatusOf(Buffer.from([0, 0, 0, 0, 0]))).toEqual({ status: 'UNKNOWN' })
    expect(servingStatusOf(Buffer.from([0, 0, 0, 0, 5, 0x12, 1, 0x41, 0x08, 1]))).toEqual({ status: 'SERVING' })
    expect(servingStatusOf(Buffer.from([0, 0, 0, 0, 2, 0x08]))).toEqual({ problem: 'truncated response message' })
    expect(servingStatusOf(Buffer.from([1, 0, 0, 0, 2, 0x08, 1]))).toEqual({ problem: 'compressed response message' })
    expect(servingStatusOf(Buffer.from([0, 0, 0, 0, 1, 0x08]))).toEqual({ problem: 'malformed response message' })
  })
})

describe('pool protocol config', () => {
  const pool = (extra: object) => ConfigSchema.safeParse({ pools: [{ name: 'p', ...extra }] })

  it('defaults to http1 and accepts matching schemes', () => {
    expect(pool({ endpoints: ['http://a:1'] }).data?.pools[0]?.protocol).toBe('http1')
    expect(pool({ protocol: 'h2c', endpoints: ['http://a:1'] }).success).toBe(true)
    expect(pool({ protocol: 'h2', endpoints: ['https://a:1'] }).success).toBe(true)
  })

  it('refuses a scheme that does not fit the protocol, naming the endpoint', () => {
    const h2 = pool({ protocol: 'h2', endpoints: ['http://a:1'] })
    expect(h2.error?.issues[0]).toMatchObject({ path: ['pools', 0, 'endpoints', 0], message: expect.stringContaining('expected an https:// endpoint') })
    const h2c = pool({ protocol: 'h2c', endpoints: ['https://a:1'] })
    expect(h2c.error?.issues[0]?.message).toContain('expected an http:// endpoint')
    expect(pool({ protocol: 'h3', endpoints: ['http://a:1'] }).success).toBe(false)
  })

  it('needs a path for http health checks only', () => {
    expect(pool({ endpoints: ['http://a:1'], healthCheck: { type: 'grpc' } }).success).toBe(true)
    expect(pool({ endpoints: ['http://a:1'], healthCheck: {} }).error?.issues[0]?.path).toEqual(['pools', 0, 'healthCheck', 'path'])
  })

  it('accepts the gRPC guide\'s example', () => {
    const guide = readFileSync(resolve(import.meta.dirname, '../../../docs/guides/grpc.md'), 'utf8')
    const yaml = /```yaml\n([\s\S]*?)```/.exec(guide)?.[1] as string
    const parsed = ConfigSchema.safeParse(parse(yaml))
    expect(parsed.error?.issues).toBeUndefined()
  })
})
