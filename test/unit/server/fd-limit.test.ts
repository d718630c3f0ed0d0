import { describe, expect, it } from 'vitest'
import { ConfigSchema } from '../../../src/config/schema.js'
import { descriptorNeeds, openFileLimit, parseOpenFileLimit, warnAboutFileLimit } from '../../../src/server/fd-limit.js'
import type { Logger } from '../../../src/observability/logger.js'

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            256                  4096                 files
Max locked memory         8388608              8388608              bytes
`

describe('file-descriptor limit', () => {
  it('reads the soft limit from /proc/<pid>/limits text', () => {
    expect(parseOpenFileLimit(LIMITS)).toBe(256)
    expect(parseOpenFileLimit(LIMITS.replace('256 ', 'unlimited '))).toBeUndefined()
    expect(parseOpenFileLimit('nothing here')).toBeUndefined()
    if (process.platform === 'linux') expect(openFileLimit()).toBeGreaterThan(0)
  })

  it('adds client connections per listener, upstream slots (and a probe) per endpoint, and a reserve', () => {
    const config = ConfigSchema.parse({
      listen: ['127.0.0.1:8080', '127.0.0.1:8081'],
      server: { maxConnections: 100 },
      pools: [
        { name: 'a', endpoints: ['http://127.0.0.1:1', 'http://127.0.0.1:2'], limits: { maxRequestsPerEndpoint: 10 }, healthCheck: { path: '/healthz' } },
        { name: 'b', endpoints: ['http://127.0.0.1:3'] },
      ],
    })
    expect(descriptorNeeds(config)).toEqual({ clientConnections: 200, upstreamConnections: 2 * 11 + 128, total: 200 + 150 + 64 })
  })

  it('warns only below what the config needs', () => {
    const config = ConfigSchema.parse({ server: { maxConnections: 1000 }, pools: [{ name: 'a', endpoints: ['http://127.0.0.1:1'] }] })
    const warnings: unknown[][] = []
    const logger = { warn: (...args: unknown[]) => warnings.push(args) } as unknown as Logger
    warnAboutFileLimit(config, logger, 1000 + 128 + 64)
    warnAboutFileLimit(config, logger, undefined)
    expect(warnings).toEqual([])
    warnAboutFileLimit(config, logger, 256)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]?.[0]).toMatchObject({ limit: 256, needed: 1192, maxConnections: 1000, listeners: 1, upstreamConnections: 128 })
    expect(warnings[0]?.[1]).toBe('the file-descriptor limit is too low for this config')
  })
})
