/**
 * @module Client traffic for integration tests: a steady request loop that records who answered when.
 */
import { Agent, request } from 'undici'
import type { LatchProcess, LogLine } from './latch-process.js'

/** One answer seen by the client. */
export interface Answer {
  /** When the request was sent (ms since epoch). */
  readonly sentAt: number
  /** When the response was complete (ms since epoch, comparable with log line times). */
  readonly at: number
  /** The `x-upstream` header (`undefined` for Latch's own error responses). */
  readonly upstream: string | undefined
  readonly status: number
  /** The `x-latch-error` code of Latch's own error responses. */
  readonly code: string | undefined
}

/** A running request loop. */
export interface Traffic {
  readonly answers: Answer[]
  /** Answers from one upstream, optionally only to requests sent after `after`. */
  from(upstream: string, after?: number): Answer[]
  stop(): Promise<void>
}

/** Sends GET `path` requests back to back on `concurrency` loops until stopped. */
export function keepRequesting(url: string, options: { path?: string; concurrency?: number } = {}): Traffic {
  const answers: Answer[] = []
  const concurrency = options.concurrency ?? 1
  const dispatcher = new Agent({ connections: concurrency })
  let running = true
  const loop = async (): Promise<void> => {
    while (running) {
      const sentAt = Date.now()
      const response = await request(`${url}${options.path ?? '/app'}`, { dispatcher })
      await response.body.dump()
      const upstream = response.headers['x-upstream']
      const code = response.headers['x-latch-error']
      answers.push({ sentAt, at: Date.now(), upstream: typeof upstream === 'string' ? upstream : undefined, status: response.statusCode, code: typeof code === 'string' ? code : undefined })
    }
  }
  const loops = Promise.all(Array.from({ length: concurrency }, loop))
  return {
    answers,
    from: (upstream, after = 0) => answers.filter((answer) => answer.upstream === upstream && answer.sentAt > after),
    async stop() {
      running = false
      await loops
      await dispatcher.close()
    },
  }
}

/** Log lines with message `msg` whose fields include `fields`. */
export function logLines(latch: LatchProcess, msg: string, fields: Record<string, unknown> = {}): LogLine[] {
  return latch.logs.filter((line) => line.msg === msg && Object.entries(fields).every(([key, value]) => line[key] === value))
}

/** The time of a log line, in ms since epoch. */
export function logTime(line: LogLine): number {
  return Date.parse(String(line.time))
}

/** Resolves after `ms`; only for observation windows, never to wait for a condition. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
