import { describe, expect, it } from 'vitest'
import { ConfigSchema } from '../../../src/config/schema.js'

const POOLS = [{ name: 'web', endpoints: ['http://127.0.0.1:1'] }]

function tokenIssue(listen: string): string | undefined {
  const parsed = ConfigSchema.safeParse({ admin: { listen }, pools: POOLS })
  return parsed.success ? undefined : parsed.error.issues.find((issue) => issue.path.join('.') === 'admin.token')?.message
}

describe('admin.token is required off loopback, judged on addresses', () => {
  it('is optional on loopback addresses', () => {
    for (const listen of ['127.0.0.1:9901', '127.8.9.10:9901', '[::1]:9901', '[::ffff:127.0.0.1]:9901']) expect(tokenIssue(listen), listen).toBeUndefined()
  })

  it('is required for a name, even one that starts with "127." or is localhost, and for other addresses', () => {
    for (const listen of ['127.evil.example:9901', '127.0.0.1.nip.io:9901', 'localhost:9901', '0.0.0.0:9901', '[::]:9901', '10.0.0.5:9901']) {
      expect(tokenIssue(listen), listen).toMatch(/^required because admin\.listen \(.*\) is not a loopback address/)
    }
  })
})

describe('admin.allowedHosts', () => {
  it('takes Host values, with or without a port, and refuses anything else with the expected form', () => {
    expect(ConfigSchema.parse({ admin: { allowedHosts: ['latch-admin.latch.svc', '127.0.0.1:19901', '[::1]:9901'] }, pools: POOLS }).admin.allowedHosts).toHaveLength(3)
    const parsed = ConfigSchema.safeParse({ admin: { allowedHosts: ['http://latch-admin:9901'] }, pools: POOLS })
    expect(parsed.success).toBe(false)
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['admin', 'allowedHosts', 0], message: 'expected a Host value such as latch-admin.latch.svc:9901 or 127.0.0.1:19901' })
  })
})
