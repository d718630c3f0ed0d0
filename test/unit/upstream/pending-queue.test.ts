import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ProxyError } from '../../../src/errors/proxy-error.js'
import { Endpoint } from '../../../src/upstream/endpoint.js'
import { PendingQueue, type Waiter } from '../../../src/upstream/pending-queue.js'
import { poolConfig } from './pool-fixtures.js'

/** A waiter that records what happened to it; accepts endpoints in `accepted` (all when omitted). */
class TestWaiter implements Waiter {
  granted: Endpoint | undefined
  rejected: ProxyError | undefined
  constructor(readonly accepted?: readonly Endpoint[]) {}
  accepts(endpoint: Endpoint): boolean {
    return this.accepted === undefined || this.accepted.includes(endpoint)
  }
  grant(endpoint: Endpoint): void {
    this.granted = endpoint
  }
  reject(error: ProxyError): void {
    this.rejected = error
  }
}

const config = poolConfig({})
const [a, b] = [1, 2].map((port) => new Endpoint({ url: `http://127.0.0.1:${port}`, weight: 1 }, config, 'static', false)) as [Endpoint, Endpoint]

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('PendingQueue', () => {
  it('holds at most maxPending waiters and counts the refused', () => {
    const queue = new PendingQueue(2, 1000)
    expect(queue.enqueue(new TestWaiter())).toBe(true)
    expect(queue.enqueue(new TestWaiter())).toBe(true)
    expect(queue.enqueue(new TestWaiter())).toBe(false)
    expect(queue.length).toBe(2)
    expect(queue.rejectedFull).toBe(1)
    expect(new PendingQueue(0, 1000).enqueue(new TestWaiter())).toBe(false)
  })

  it('hands a free slot to the oldest waiter that accepts the endpoint', () => {
    const queue = new PendingQueue(10, 1000)
    const onlyB = new TestWaiter([b])
    const first = new TestWaiter()
    const second = new TestWaiter()
    for (const waiter of [onlyB, first, second]) queue.enqueue(waiter)
    expect(queue.offer(a)).toBe(true)
    expect(first.granted).toBe(a)
    expect(onlyB.granted).toBeUndefined()
    expect(queue.offer(b)).toBe(true)
    expect(onlyB.granted).toBe(b)
    expect(queue.length).toBe(1)
    const rest = new PendingQueue(10, 1000)
    rest.enqueue(new TestWaiter([b]))
    expect(rest.offer(a)).toBe(false)
  })

  it('rejects a waiter with ERR_QUEUE_TIMEOUT and Retry-After once queueTimeout passed', () => {
    const queue = new PendingQueue(10, 500)
    const waiter = new TestWaiter()
    queue.enqueue(waiter)
    vi.advanceTimersByTime(499)
    expect(waiter.rejected).toBeUndefined()
    vi.advanceTimersByTime(1)
    expect(waiter.rejected).toMatchObject({ code: 'ERR_QUEUE_TIMEOUT', status: 503, retryAfter: 1 })
    expect(queue.length).toBe(0)
    expect(queue.timedOut).toBe(1)
  })

  it('never times out a waiter that got a slot or left', () => {
    const queue = new PendingQueue(10, 500)
    const served = new TestWaiter()
    const gone = new TestWaiter()
    queue.enqueue(served)
    queue.enqueue(gone)
    queue.offer(a)
    queue.remove(gone)
    vi.advanceTimersByTime(10_000)
    expect(served.rejected).toBeUndefined()
    expect(gone.rejected).toBeUndefined()
    expect(queue.timedOut).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('rejects every waiter at once on rejectAll', () => {
    const queue = new PendingQueue(10, 500)
    const waiters = [new TestWaiter(), new TestWaiter()]
    for (const waiter of waiters) queue.enqueue(waiter)
    const shuttingDown = new ProxyError('ERR_SHUTTING_DOWN')
    queue.rejectAll(shuttingDown)
    expect(waiters.map((waiter) => waiter.rejected)).toEqual([shuttingDown, shuttingDown])
    expect(queue.length).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })
})
