/**
 * @module Open-loop client traffic at a fixed rate: requests go out on schedule whether or not earlier
 * ones were answered (a stalled endpoint must not slow the sender down), bounded by count.
 */
import { Agent, request } from 'undici'

/** One request: when it was sent and, once answered, by whom and when. */
export interface RateAnswer {
  readonly sentAt: number
  doneAt: number | undefined
  upstream: string | undefined
  status: number | undefined
  code: string | undefined
  failed: boolean
}

/** A running rate loop. */
export interface RateTraffic {
  readonly answers: RateAnswer[]
  /** Stops sending; resolves when every request sent was answered or failed. */
  stop(): Promise<void>
}

/** Sends GET `url` at `perSecond`, at most `maxRequests` in all, on up to `connections` connections. */
export function sendAtRate(url: string, perSecond: number, maxRequests: number, connections = 512): RateTraffic {
  const dispatcher = new Agent({ connections, headersTimeout: 60_000, bodyTimeout: 60_000 })
  const answers: RateAnswer[] = []
  const pending = new Set<Promise<void>>()
  const startedAt = Date.now()
  const one = async (answer: RateAnswer): Promise<void> => {
    try {
      const response = await request(url, { dispatcher })
      await response.body.dump()
      const upstream = response.headers['x-upstream']
      const code = response.headers['x-latch-error']
      answer.upstream = typeof upstream === 'string' ? upstream : undefined
      answer.code = typeof code === 'string' ? code : undefined
      answer.status = response.statusCode
    } catch {
      answer.failed = true
    }
    answer.doneAt = Date.now()
  }
  const tick = (): void => {
    const due = Math.min(maxRequests, Math.floor(((Date.now() - startedAt) * perSecond) / 1000))
    while (answers.length < due) {
      const answer: RateAnswer = { sentAt: Date.now(), doneAt: undefined, upstream: undefined, status: undefined, code: undefined, failed: false }
      answers.push(answer)
      const sent = one(answer)
      pending.add(sent)
      void sent.then(() => pending.delete(sent))
    }
    if (answers.length >= maxRequests) clearInterval(timer)
  }
  const timer = setInterval(tick, 5)
  let stopped: Promise<void> | undefined
  return {
    answers,
    stop() {
      clearInterval(timer)
      return (stopped ??= Promise.all(pending).then(() => dispatcher.close()))
    },
  }
}
