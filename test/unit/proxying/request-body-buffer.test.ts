import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { BufferOutcome, PendingBody, type BufferRequest } from '../../../src/proxying/request-body-buffer.js'
import { UploadWatch } from '../../../src/proxying/upload-watch.js'

/** A request stream, a watch on a hand-driven clock, and the PendingBody reading it. */
function reading(request: Partial<BufferRequest>): { req: PassThrough; watch: UploadWatch; clock: { now: number }; pending: PendingBody<string>; done: PendingBody<string>[] } {
  const clock = { now: 0 }
  const watch = new UploadWatch(1000, () => clock.now)
  const req = new PassThrough()
  const done: PendingBody<string>[] = []
  const pending = new PendingBody(req, 'owner', { contentLength: -1, bufferSize: 100, limit: 1000, deadline: 5000, ...request }, (body) => done.push(body))
  pending.start(watch)
  return { req, watch, clock, pending, done }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('PendingBody', () => {
  it('reads a body that fits whole and hands over the very chunk when it came in one piece', async () => {
    const { req, pending, done, watch } = reading({ contentLength: 40 })
    const chunk = Buffer.alloc(40, 'a')
    req.end(chunk)
    await tick()
    expect(done).toEqual([pending])
    expect(pending.outcome).toBe(BufferOutcome.Whole)
    expect(pending.body).toBe(chunk)
    expect(pending.owner).toBe('owner')
    expect(watch.size).toBe(0)
  })

  it('joins a body that came in several chunks', async () => {
    const { req, pending } = reading({ contentLength: 30 })
    req.write(Buffer.from('0123456789'))
    req.write(Buffer.from('abcdefghij'))
    req.end(Buffer.from('ABCDEFGHIJ'))
    await tick()
    expect(pending.outcome).toBe(BufferOutcome.Whole)
    expect(pending.body.toString()).toBe('0123456789abcdefghijABCDEFGHIJ')
  })

  it('stops at bufferSize for a larger body and leaves the rest in the stream', async () => {
    const { req, pending, done } = reading({ contentLength: 500, bufferSize: 100 })
    req.write(Buffer.alloc(60, 'a'))
    await tick()
    expect(done).toHaveLength(0)
    req.write(Buffer.alloc(60, 'b'))
    await tick()
    expect(pending.outcome).toBe(BufferOutcome.Prefix)
    expect(pending.received).toBe(120)
    expect(req.isPaused()).toBe(true)
    req.write(Buffer.alloc(10, 'c'))
    req.end()
    await tick()
    // Nothing more was taken: the rest is for whoever reads the stream next.
    expect(pending.received).toBe(120)
    expect(req.read()?.toString()).toBe('cccccccccc')
  })

  it('reads an unknown-length body whole when it ends within bufferSize, else stops at bufferSize', async () => {
    const small = reading({ contentLength: -1, bufferSize: 100 })
    small.req.end(Buffer.alloc(100, 'a'))
    await tick()
    expect(small.pending.outcome).toBe(BufferOutcome.Prefix)
    const smaller = reading({ contentLength: -1, bufferSize: 100 })
    smaller.req.end(Buffer.alloc(99, 'a'))
    await tick()
    expect(smaller.pending.outcome).toBe(BufferOutcome.Whole)
  })

  it('fails with ERR_BODY_TIMEOUT at the deadline, on its watch\'s clock', async () => {
    const { req, pending, clock, watch, done } = reading({ contentLength: 50, deadline: 5000 })
    req.write(Buffer.alloc(10))
    await tick()
    clock.now = 4999
    watch.sweep()
    expect(done).toHaveLength(0)
    clock.now = 5000
    watch.sweep()
    expect(pending.outcome).toBe(BufferOutcome.Failed)
    expect(pending.error?.code).toBe('ERR_BODY_TIMEOUT')
    expect(pending.error?.status).toBe(408)
    expect(pending.error?.message).toContain('10 of the first 50 bytes')
    expect(watch.size).toBe(0)
    // Late bytes change nothing.
    req.write(Buffer.alloc(40))
    await tick()
    expect(done).toHaveLength(1)
  })

  it('fails with ERR_BODY_TOO_LARGE when an unknown-length body passes the limit while buffering', async () => {
    const { req, pending } = reading({ contentLength: -1, bufferSize: 100, limit: 50 })
    req.write(Buffer.alloc(51))
    await tick()
    expect(pending.outcome).toBe(BufferOutcome.Failed)
    expect(pending.error?.code).toBe('ERR_BODY_TOO_LARGE')
  })

  it('gives up quietly when the client goes away', async () => {
    const { req, pending, watch } = reading({ contentLength: 50 })
    req.write(Buffer.alloc(10))
    req.destroy(new Error('aborted'))
    await tick()
    expect(pending.outcome).toBe(BufferOutcome.Gone)
    expect(watch.size).toBe(0)
  })
})
