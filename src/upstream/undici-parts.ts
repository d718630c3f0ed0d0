/**
 * @module The parts of undici the proxy path uses, required from their own files.
 *
 * undici's entry point loads all it offers (fetch, WebSocket, EventSource, caches, mocks, proxy
 * agents): some 6 MB of resident memory and 3 MB of heap that a proxy never touches (bench/RESULTS.md,
 * footprint). Only the connection pool and the connector are loaded here; they use `dispatch`, never
 * the request/stream API that the entry point mixes into every dispatcher. undici has no `exports`
 * map, so these paths are public files; test/unit/upstream/undici-parts.test.ts checks they are the
 * very classes undici exports, so a release that moves them fails there, not in production.
 */
import { createRequire } from 'node:module'
import type * as Undici from 'undici'

const require = createRequire(import.meta.url)

/** undici's `Pool` (keep-alive connections to one origin). */
export const Pool = require('undici/lib/dispatcher/pool.js') as typeof Undici.Pool
/** undici's `buildConnector` (the socket factory pools take as `connect`). */
export const buildConnector = require('undici/lib/core/connect.js') as typeof Undici.buildConnector

/** All of undici (with the request API on every dispatcher), loaded when first needed. */
export function loadUndici(): typeof Undici {
  return require('undici') as typeof Undici
}
