import { describe, expect, it } from 'vitest'
import { createPolicy } from '../../../src/balancing/create-policy.js'
import { LeastRequest } from '../../../src/balancing/least-request.js'
import { LeastSessions } from '../../../src/balancing/least-sessions.js'
import { SmoothWeightedRoundRobin } from '../../../src/balancing/smooth-weighted-round-robin.js'
import { WeightedRandom } from '../../../src/balancing/weighted-random.js'

describe('createPolicy', () => {
  it('builds a fresh instance of the named policy (stateful policies are never shared)', () => {
    expect(createPolicy('round-robin')).toBeInstanceOf(SmoothWeightedRoundRobin)
    expect(createPolicy('least-request')).toBeInstanceOf(LeastRequest)
    expect(createPolicy('random')).toBeInstanceOf(WeightedRandom)
    expect(createPolicy('least-sessions')).toBeInstanceOf(LeastSessions)
    expect(createPolicy('round-robin')).not.toBe(createPolicy('round-robin'))
  })
})
