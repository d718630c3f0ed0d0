import { describe, expect, it } from 'vitest'
import { MinRateWindow, tickFor, UploadWatch, type WatchedUpload } from '../../../src/proxying/upload-watch.js'

describe('MinRateWindow', () => {
  it('cuts only after a full window that delivered less than minBytes', () => {
    const window = new MinRateWindow(100, 1000, 0)
    expect(window.sample(500, 10, true)).toBe(true)
    expect(window.sample(999, 99, true)).toBe(true)
    expect(window.sample(1000, 99, true)).toBe(false)
  })

  it('starts a new window once a window delivered enough, measuring bytes from there', () => {
    const window = new MinRateWindow(100, 1000, 0)
    expect(window.sample(1000, 150, true)).toBe(true)
    // 150 → 200 over the next window: only 50 bytes.
    expect(window.sample(2000, 200, true)).toBe(false)
  })

  it('never counts a window in which Latch was not waiting for the client', () => {
    const window = new MinRateWindow(100, 1000, 0)
    expect(window.sample(900, 0, false)).toBe(true)
    // The window restarted at 900: 1899 is still inside it, 1900 ends it.
    expect(window.sample(1899, 0, true)).toBe(true)
    expect(window.sample(1900, 0, true)).toBe(false)
  })
})

describe('UploadWatch', () => {
  /** An upload that records its checks and stays watched until `done`. */
  class Probe implements WatchedUpload {
    checks: number[] = []
    done = false
    check(now: number): boolean {
      this.checks.push(now)
      return !this.done
    }
  }

  it('checks every watched upload on each sweep with its clock, and drops those that are done', () => {
    let now = 0
    const watch = new UploadWatch(1000, () => now)
    const one = new Probe()
    const two = new Probe()
    watch.add(one)
    watch.add(two)
    now = 5
    watch.sweep()
    one.done = true
    now = 10
    watch.sweep()
    now = 15
    watch.sweep()
    expect(one.checks).toEqual([5, 10])
    expect(two.checks).toEqual([5, 10, 15])
    expect(watch.size).toBe(1)
    watch.delete(two)
    expect(watch.size).toBe(0)
  })

  it('keeps its timer until a sweep finds nothing to watch, so uploads that come and go reuse it', async () => {
    const watch = new UploadWatch(20)
    const probe = new Probe()
    watch.add(probe)
    watch.delete(probe)
    const next = new Probe()
    watch.add(next)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(next.checks.length).toBeGreaterThan(0)
    expect(probe.checks).toEqual([])
    watch.delete(next)
  })

  it('runs its timer only while it watches something', async () => {
    const watch = new UploadWatch(20)
    const probe = new Probe()
    watch.add(probe)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(probe.checks.length).toBeGreaterThan(0)
    probe.done = true
    await new Promise((resolve) => setTimeout(resolve, 60))
    const seen = probe.checks.length
    await new Promise((resolve) => setTimeout(resolve, 60))
    expect(probe.checks.length).toBe(seen)
    expect(watch.size).toBe(0)
  })

  it('sweeps at a fifth of the shortest interval, between 20 ms and 1 s', () => {
    expect(tickFor(10_000)).toBe(1000)
    expect(tickFor(1000)).toBe(200)
    expect(tickFor(10)).toBe(20)
    expect(tickFor(Infinity)).toBe(1000)
  })
})
