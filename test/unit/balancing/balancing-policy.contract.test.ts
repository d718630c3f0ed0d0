/**
 * The contract every balancing policy keeps, run against each of them as `createPolicy` builds it:
 * it never picks outside its candidates, returns the only one and nothing for none, honours weights
 * within a stated tolerance, and spreads a burst of concurrent picks (requests still in flight) by
 * weight instead of sending it all to one endpoint.
 *
 * Load model: a picked endpoint carries one request in flight (`inflight`, which least-request and
 * least-sessions read) until it finishes `window` picks later, the steady state of a server under
 * constant concurrency. Round robin and random ignore it.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createPolicy } from '../../../src/balancing/create-policy.js'
import type { BalancingPolicy } from '../../../src/balancing/policy.js'
import { BALANCE_POLICIES, type BalancePolicyName } from '../../../src/config/schema.js'
import type { Endpoint } from '../../../src/upstream/endpoint.js'
import { closeEndpoints, endpoints, tally } from './balancing-fixtures.js'

afterEach(closeEndpoints)

/** Share tolerance (percentage points of all picks) per policy: exact orders are held tighter. */
const TOLERANCE: Record<BalancePolicyName, number> = {
  'round-robin': 0.5,
  // 20,000 draws: one standard deviation of a share is at most 0.35 points; 2 points is > 5 sigma.
  random: 2,
  // Least-load policies can follow weights only as finely as the requests in flight allow (with 4 in
  // flight, weights 1,2,3,4 leave the lightest endpoint none, rightly): the runs below keep at least
  // 10 × the total weight in flight. Power of two choices equalises load per weight approximately.
  'least-request': 2,
  'least-sessions': 1,
}

/** `picks` picks with `window` requests in flight at a time; the picked endpoints in order. */
function run(policy: BalancingPolicy, candidates: readonly Endpoint[], picks: number, window: number): Endpoint[] {
  const picked: Endpoint[] = []
  for (let i = 0; i < picks; i++) {
    const endpoint = policy.pick(candidates)
    if (endpoint === undefined) throw new Error('no pick among non-empty candidates')
    endpoint.inflight++
    picked.push(endpoint)
    if (picked.length > window) (picked[picked.length - 1 - window] as Endpoint).inflight--
  }
  for (const endpoint of picked.slice(-window)) endpoint.inflight--
  return picked
}

function shares(of: readonly Endpoint[], picks: readonly Endpoint[]): number[] {
  return tally(of, picks).map((count) => (100 * count) / picks.length)
}

function weightShares(of: readonly Endpoint[]): number[] {
  const total = of.reduce((sum, endpoint) => sum + endpoint.weight, 0)
  return of.map((endpoint) => (100 * endpoint.weight) / total)
}

describe.each(BALANCE_POLICIES)('balancing policy contract: %s', (name) => {
  it('returns undefined for no candidate and the only candidate for one', () => {
    const policy = createPolicy(name)
    expect(policy.pick([])).toBeUndefined()
    const [only] = endpoints(3) as [Endpoint]
    for (let i = 0; i < 10; i++) expect(policy.pick([only])).toBe(only)
  })

  it('never picks outside its candidates, whichever subset it is offered', () => {
    const all = endpoints(1, 2, 3, 4, 5)
    const policy = createPolicy(name)
    for (let i = 0; i < 2000; i++) {
      // Subsets change from call to call, as unavailable and already-tried endpoints sit out.
      const subset = all.filter((_, index) => ((i * 7 + index * 3) % 5) < 3)
      const picked = policy.pick(subset)
      expect(subset).toContain(picked)
    }
  })

  it.each([
    { weights: [1, 1, 1], window: 30 },
    { weights: [1, 2, 3, 4], window: 100 },
    { weights: [9, 1], window: 100 },
    { weights: [5, 3, 2], window: 100 },
  ])('honours weights $weights within the stated tolerance ($window in flight)', ({ weights, window }) => {
    const all = endpoints(...weights)
    const picks = run(createPolicy(name), all, 20_000, window)
    const expected = weightShares(all)
    shares(all, picks).forEach((share, index) => expect(Math.abs(share - (expected[index] as number))).toBeLessThanOrEqual(TOLERANCE[name]))
  })

  it('spreads a burst of concurrent picks (none finished yet) by weight, not onto one endpoint', () => {
    const all = endpoints(1, 1, 2)
    const policy = createPolicy(name)
    // 400 picks with nothing finishing: every pick raises its endpoint's in-flight count.
    const picks = run(policy, all, 400, 400)
    const counts = tally(all, picks)
    const expected = weightShares(all).map((share) => (share * 400) / 100)
    // Random draws may stray most: 400 draws at p = 1/4 have a standard deviation of ~9 picks.
    counts.forEach((count, index) => expect(Math.abs(count - (expected[index] as number))).toBeLessThanOrEqual(name === 'random' ? 50 : name === 'least-request' ? 30 : 2))
    for (const endpoint of all) expect(endpoint.inflight).toBe(0)
  })

  it('keeps honouring weights after the candidate set changes (an endpoint leaves, then returns)', () => {
    const all = endpoints(1, 1, 1)
    const policy = createPolicy(name)
    run(policy, all.slice(0, 2), 1000, 10)
    const picks = run(policy, all, 9000, 10)
    shares(all, picks).forEach((share) => expect(Math.abs(share - 100 / 3)).toBeLessThanOrEqual(TOLERANCE[name] + 1))
  })
})
