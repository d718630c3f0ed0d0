/**
 * @module What the access log may show of a request target that could not be parsed.
 */

/** Longest refused target logged (the rest is cut). */
const MAX_LOGGED = 200

/**
 * `target` without its query string, fragment and userinfo (`http://user:password@host/…` → `http://host/…`),
 * cut to MAX_LOGGED characters: a refused target is logged as it came, minus what can hold secrets.
 */
export function loggableTarget(target: string): string {
  let end = target.length
  const query = target.indexOf('?')
  if (query !== -1) end = query
  const fragment = target.indexOf('#')
  if (fragment !== -1 && fragment < end) end = fragment
  let text = target.slice(0, end)
  if (!text.startsWith('/')) {
    // Absolute or authority form: the userinfo ends at the last "@" of the authority.
    const scheme = text.indexOf('://')
    const authorityStart = scheme === -1 ? 0 : scheme + 3
    const slash = text.indexOf('/', authorityStart)
    const authorityEnd = slash === -1 ? text.length : slash
    const at = text.lastIndexOf('@', authorityEnd - 1)
    if (at >= authorityStart) text = text.slice(0, authorityStart) + text.slice(at + 1)
  }
  return text.slice(0, MAX_LOGGED)
}
