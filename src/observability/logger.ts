/**
 * @module The process log: JSON lines on stdout through pino, constant messages, data in fields.
 *
 * Secrets never reach it: request headers are not logged at all, and config values that can hold
 * credentials are redacted by key.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

/** Paths pino redacts wherever they appear in a logged object. */
const REDACT = ['*.token', '*.password', '*.secret', '*.secrets', '*.authorization', '*.cookie', 'headers.cookie', 'headers.authorization', 'headers["set-cookie"]']

/** Creates the process logger. `destination` defaults to stdout; tests pass a stream. */
export function createLogger(level: LevelWithSilent, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT, censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
  }
  return destination === undefined ? pino(options) : pino(options, destination)
}

/** The part of pino's default stdout destination (a sonic-boom) that tells whether a write is in flight. */
interface SonicBoomState {
  readonly _writing?: boolean
  once(event: 'drain' | 'error', listener: () => void): unknown
}

/**
 * Resolves once every line logged so far has reached the OS (or after `timeoutMs`). pino's stdout
 * destination writes asynchronously, and `logger.flush(cb)` calls back at once when it does not
 * buffer; exiting while a write is in flight makes the exit-time flushSync write later lines first, so
 * the last lines come out of order or not at all. sonic-boom emits 'drain' when its in-flight write
 * ended with nothing left to write; `_writing` is its own (undocumented but stable) flag for that.
 */
export function settleLogger(logger: Logger, timeoutMs = 1000): Promise<void> {
  const stream = (logger as unknown as Record<symbol, SonicBoomState | undefined>)[pino.symbols.streamSym]
  if (stream?._writing !== true) return Promise.resolve()
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs)
    const done = (): void => {
      clearTimeout(timer)
      resolve()
    }
    stream.once('drain', done)
    stream.once('error', done)
  })
}
