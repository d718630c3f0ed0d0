import { describe, expect, it } from 'vitest'
import { RetryBudget } from '../../../src/upstream/retry-budget.js'

/** Takes retries until the budget refuses; returns how many were granted. */
function drain(budget: RetryBudget, nowMs: number, most = 10_000): number {
  let granted = 0
  while (granted < most && budget.tryRetry(nowMs)) granted++
  return granted
}

describe('RetryBudget', () => {
  it('allows retries up to budget × recent requests', () => {
    const budget = new RetryBudget(0.2, 0)
    for (let i = 0; i < 100; i++) budget.recordRequest(1000 + i)
    expect(drain(budget, 1200)).toBe(20)
    budget.recordRequest(1300)
    budget.recordRequest(1300)
    budget.recordRequest(1300)
    budget.recordRequest(1300)
    budget.recordRequest(1300)
    expect(drain(budget, 1300)).toBe(1)
  })

  it('always allows minRetriesPerSecond × 10 s, even without traffic', () => {
    const budget = new RetryBudget(0.2, 3)
    expect(drain(budget, 50_000)).toBe(30)
    for (let i = 0; i < 50; i++) budget.recordRequest(50_100)
    expect(drain(budget, 50_200)).toBe(10)
  })

  it('with a budget of 1, lets retries double the load at most', () => {
    const budget = new RetryBudget(1, 0)
    for (let i = 0; i < 40; i++) budget.recordRequest(7000)
    expect(drain(budget, 7000)).toBe(40)
  })

  it('forgets requests and retries older than the 10 s window, second by second', () => {
    const budget = new RetryBudget(0.5, 0)
    for (let i = 0; i < 20; i++) budget.recordRequest(100_000) // second 100
    for (let i = 0; i < 10; i++) budget.recordRequest(105_000) // second 105
    expect(drain(budget, 105_500)).toBe(15)
    // Second 110 drops second 100: 10 requests and the 15 retries of second 105 remain.
    expect(drain(budget, 110_000)).toBe(0)
    // Second 115 drops second 105 too: an empty window.
    expect(drain(budget, 115_000)).toBe(0)
    budget.recordRequest(115_001)
    budget.recordRequest(115_002)
    expect(drain(budget, 115_003)).toBe(1)
  })

  it('starts afresh after a pause longer than the window', () => {
    const budget = new RetryBudget(0.1, 1)
    for (let i = 0; i < 100; i++) budget.recordRequest(3_000)
    expect(drain(budget, 3_000)).toBe(20)
    expect(drain(budget, 60_000)).toBe(10)
  })
})
