/**
 * @module Loads http-proxy without Node's DEP0060 warning.
 *
 * http-proxy 1.18 (the WebSocket tunnel our users chose; unmaintained since 2020) captures
 * `util._extend` when it is loaded, and Node ≥ 22 prints a deprecation warning the first time that is
 * called. It is given an equivalent, undeprecated function for the duration of the load only; the
 * `util` module is left as it was.
 */
import { createRequire } from 'node:module'
import type HttpProxy from 'http-proxy'

type Extend = (target: Record<string, unknown>, source: unknown) => Record<string, unknown>

/** `util._extend` semantics: copies own enumerable properties of an object `source` into `target`. */
const extend: Extend = (target, source) => {
  if (source === null || typeof source !== 'object') return target
  for (const key of Object.keys(source)) target[key] = (source as Record<string, unknown>)[key]
  return target
}

/** The http-proxy module. */
export function loadHttpProxy(): typeof HttpProxy {
  const require = createRequire(import.meta.url)
  const util = require('node:util') as { _extend: Extend }
  const original = util._extend
  util._extend = extend
  try {
    return require('http-proxy') as typeof HttpProxy
  } finally {
    util._extend = original
  }
}
