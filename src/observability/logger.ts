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
