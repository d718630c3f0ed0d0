/**
 * @module `server.requestBody` compiled once per config (the runtime holds it; request-body.ts
 * follows it per request).
 */
import type { RequestBodyConfig } from '../config/schema.js'
import { tickFor, UploadWatch } from './upload-watch.js'

/** `server.requestBody`, compiled once per config, with the watch that enforces its deadlines. */
export interface RequestBodyPolicy {
  readonly bufferSize: number
  /** Milliseconds; Infinity when `bufferTimeout` is 0. */
  readonly bufferTimeout: number
  readonly minRateBytes: number
  readonly minRateWindow: number
  readonly watch: UploadWatch
}

export function compileRequestBodyPolicy(config: RequestBodyConfig): RequestBodyPolicy {
  const bufferTimeout = config.bufferTimeout > 0 ? config.bufferTimeout : Infinity
  const minRateBytes = config.minRate.bytes
  const intervals = [bufferTimeout, minRateBytes > 0 ? config.minRate.window : Infinity]
  return { bufferSize: config.bufferSize, bufferTimeout, minRateBytes, minRateWindow: config.minRate.window, watch: new UploadWatch(tickFor(Math.min(...intervals))) }
}
