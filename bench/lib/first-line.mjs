/**
 * @module Waits for a child process's stdout to show a line matching a pattern (a server's "listening"
 * line), for the standalone bench scripts.
 */

/** Resolves with the first match of `pattern` in `child`'s stdout; rejects after `timeoutMs`. */
export function firstLine(child, pattern, timeoutMs = 20_000) {
  return new Promise((resolve, reject) => {
    let buffer = ''
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs / 1000} s`)), timeoutMs)
    child.stdout.on('data', (chunk) => {
      buffer += chunk
      const match = pattern.exec(buffer)
      if (match !== null) {
        clearTimeout(timer)
        resolve(match)
      }
    })
  })
}
