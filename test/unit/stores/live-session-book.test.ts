/**
 * LiveSessionBook on a clock the test moves, over a transport that records what it is given (a
 * plain in-process sink, not a mock of a store): the one report-throttle rule and the counts cache.
 */
import { describe, expect, it } from 'vitest'
import { COUNTS_MAX_AGE_MS, LiveSessionBook, reportInterval, type Touch } from '../../../src/stores/live-session-book.js'

function book(fetch: (scope: string) => Promise<ReadonlyMap<string, number>> = async () => new Map()) {
  let now = 1_000_000
  const sent: Touch[] = []
  const fetched: string[] = []
  const sessions = new LiveSessionBook(
    {
      send: (touches) => sent.push(...touches),
      fetch: (scope) => {
        fetched.push(scope)
        return fetch(scope)
      },
    },
    { flushMs: 10, now: () => now },
  )
  return { sessions, sent, fetched, advance: (ms: number) => (now += ms) }
}

describe('reportInterval', () => {
  it('is a tenth of the TTL, at most a minute', () => {
    expect(reportInterval(300)).toBe(30)
    expect(reportInterval(10_000)).toBe(1000)
    expect(reportInterval(5 * 60_000)).toBe(30_000)
    // The default live-session window (30 minutes): once a minute, not once a second.
    expect(reportInterval(30 * 60_000)).toBe(60_000)
  })
})

describe('LiveSessionBook', () => {
  it('reports a session once per interval on the same endpoint, and a move at once', () => {
    const { sessions, sent, advance } = book()
    const ttl = 30 * 60_000
    sessions.touch('p:cookie', 's1', 'e1', ttl)
    sessions.touch('p:cookie', 's1', 'e1', ttl)
    advance(59_999)
    sessions.touch('p:cookie', 's1', 'e1', ttl)
    sessions.flush()
    expect(sent).toEqual([['p:cookie', 's1', 'e1', ttl]])
    // Moved to e2: reported now, whatever the interval.
    sessions.touch('p:cookie', 's1', 'e2', ttl)
    advance(1)
    sessions.touch('p:cookie', 's1', 'e2', ttl)
    sessions.flush()
    expect(sent.length).toBe(2)
    expect(sent[1]).toEqual(['p:cookie', 's1', 'e2', ttl])
    advance(60_000)
    sessions.touch('p:cookie', 's1', 'e2', ttl)
    sessions.flush()
    expect(sent.length).toBe(3)
  })

  it('keeps a session in use alive at the shared side even when its TTL is short (no one-second floor)', () => {
    const { sessions, sent, advance } = book()
    // A request every 100 ms on a 500 ms TTL: re-reported every 50 ms+, so it never lapses at the shared side.
    for (let i = 0; i < 10; i++) {
      sessions.touch('p:cookie', 's1', 'e1', 500)
      advance(100)
    }
    sessions.flush()
    expect(sent.length).toBe(10)
  })

  it('tells sessions apart by scope and session id', () => {
    const { sessions, sent } = book()
    sessions.touch('p1:cookie', 's1', 'e1', 60_000)
    sessions.touch('p2:cookie', 's1', 'e1', 60_000)
    sessions.touch('p1:cookie', 's2', 'e1', 60_000)
    sessions.flush()
    expect(sent.length).toBe(3)
  })

  it('the sweep forgets only sessions already due for a report', () => {
    const { sessions, sent, advance } = book()
    sessions.touch('p:cookie', 'short', 'e1', 1000)
    sessions.touch('p:cookie', 'long', 'e1', 60_000)
    advance(100)
    sessions.sweep()
    sessions.touch('p:cookie', 'short', 'e1', 1000)
    sessions.touch('p:cookie', 'long', 'e1', 60_000)
    sessions.flush()
    expect(sent.map(([, id]) => id)).toEqual(['short', 'long', 'short'])
  })

  it('serves the last counts and fetches again in the background once they are a second old', async () => {
    let answer = new Map([['e1', 1]])
    const { sessions, fetched, advance } = book(async () => answer)
    expect(sessions.counts('p:cookie').size).toBe(0)
    await Promise.resolve()
    expect(Object.fromEntries(sessions.counts('p:cookie'))).toEqual({ e1: 1 })
    answer = new Map([['e1', 2]])
    advance(COUNTS_MAX_AGE_MS - 1)
    expect(Object.fromEntries(sessions.counts('p:cookie'))).toEqual({ e1: 1 })
    expect(fetched.length).toBe(1)
    advance(1)
    sessions.counts('p:cookie')
    await Promise.resolve()
    expect(fetched.length).toBe(2)
    expect(Object.fromEntries(sessions.counts('p:cookie'))).toEqual({ e1: 2 })
  })

  it('keeps the last counts when a fetch fails, and fetches now on request', async () => {
    let fail = false
    const { sessions } = book(async () => {
      if (fail) throw new Error('gone')
      return new Map([['e1', 3]])
    })
    expect(Object.fromEntries(await sessions.fetchNow('p:cookie'))).toEqual({ e1: 3 })
    fail = true
    expect(Object.fromEntries(await sessions.fetchNow('p:cookie'))).toEqual({ e1: 3 })
    sessions.forgetCounts()
    expect(sessions.counts('p:cookie').size).toBe(0)
  })
})
