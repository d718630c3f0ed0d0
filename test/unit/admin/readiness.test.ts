import { afterEach, describe, expect, it, vi } from 'vitest'
import { Readiness } from '../../../src/admin/readiness.js'

describe('Readiness', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('is not ready until the listeners are bound, then ready until shutdown begins', async () => {
    const readiness = new Readiness()
    expect(await readiness.report()).toEqual({ ready: false, details: { config: { ok: true }, listeners: { ok: false, detail: 'listeners are not bound yet' }, shutdown: { ok: true } } })
    readiness.setListening()
    expect((await readiness.report()).ready).toBe(true)
    readiness.setShuttingDown()
    expect(readiness.shuttingDown).toBe(true)
    expect(await readiness.report()).toEqual({ ready: false, details: { config: { ok: true }, listeners: { ok: true }, shutdown: { ok: false, detail: 'shutting down' } } })
  })

  it('reports named checks under their names; one failing check makes it unready', async () => {
    const readiness = new Readiness()
    readiness.setListening()
    let redisUp = true
    readiness.addCheck('redis', async () => (redisUp ? { ok: true } : { ok: false, detail: 'connection refused' }))
    expect(await readiness.report()).toMatchObject({ ready: true, details: { redis: { ok: true } } })
    redisUp = false
    expect(await readiness.report()).toMatchObject({ ready: false, details: { redis: { ok: false, detail: 'connection refused' }, listeners: { ok: true } } })
  })

  it('counts a throwing or rejecting check as failed, with its message', async () => {
    const readiness = new Readiness()
    readiness.setListening()
    readiness.addCheck('sync', () => {
      throw new Error('boom')
    })
    readiness.addCheck('async', () => Promise.reject(new Error('later boom')))
    expect(await readiness.report()).toMatchObject({ ready: false, details: { sync: { ok: false, detail: 'boom' }, async: { ok: false, detail: 'later boom' } } })
  })

  it('counts a check that does not answer within 2 s as failed', async () => {
    vi.useFakeTimers()
    const readiness = new Readiness()
    readiness.setListening()
    readiness.addCheck('stuck', () => new Promise(() => {}))
    const report = readiness.report()
    await vi.advanceTimersByTimeAsync(2000)
    expect(await report).toMatchObject({ ready: false, details: { stuck: { ok: false, detail: 'no answer within 2000 ms' } } })
  })

  it('refuses a check name that is taken, built-in names included', () => {
    const readiness = new Readiness()
    readiness.addCheck('redis', () => ({ ok: true }))
    for (const name of ['redis', 'config', 'listeners', 'shutdown']) {
      expect(() => readiness.addCheck(name, () => ({ ok: true }))).toThrow(`readiness check "${name}" is already defined`)
    }
  })
})
