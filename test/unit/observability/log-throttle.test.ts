import { describe, expect, it } from 'vitest'
import { LogThrottle } from '../../../src/observability/log-throttle.js'

describe('LogThrottle', () => {
  it('admits one line per interval and says how many it left out meanwhile', () => {
    const throttle = new LogThrottle(1000)
    expect(throttle.admit(0)).toBe(0)
    expect([throttle.admit(1), throttle.admit(500), throttle.admit(999)]).toEqual([undefined, undefined, undefined])
    expect(throttle.admit(1000)).toBe(3)
    expect(throttle.admit(1500)).toBeUndefined()
    expect(throttle.admit(5000)).toBe(1)
  })
})
