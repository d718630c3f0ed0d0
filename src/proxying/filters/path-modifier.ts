/**
 * @module Gateway API `HTTPPathModifier` for URLRewrite and RequestRedirect: `ReplaceFullPath` and
 * `ReplacePrefixMatch`, the latter with the spec's slash rules (httproute_types.go's table):
 *
 *   /foo/bar, prefix /foo, replace /xyz → /xyz/bar     /foo/, prefix /foo, replace /xyz → /xyz/
 *   /foo/bar, prefix /foo, replace ""   → /bar         /foo,  prefix /foo, replace "/"  → /
 *
 * A trailing `/` of the prefix or the replacement is ignored; what follows the matched prefix is
 * kept as it is; an empty result is `/`.
 */
import type { PathModifier } from '../../routing/route-action.js'

/**
 * The path `modifier` makes of `path` (no query). `prefix` is the matched rule's PathPrefix value;
 * without one (an Exact or regex rule) `ReplacePrefixMatch` leaves the path as it is (the config
 * check only allows it on a single PathPrefix match).
 */
export function modifyPath(path: string, prefix: string | undefined, modifier: PathModifier): string {
  if (modifier.type === 'ReplaceFullPath') return modifier.value
  if (prefix === undefined) return path
  const matched = withoutTrailingSlash(prefix)
  // The router matched element-wise, so `path` starts with `matched` followed by `/` or its end.
  const rest = path.startsWith(matched) ? path.slice(matched.length) : path
  const replaced = withoutTrailingSlash(modifier.value) + rest
  return replaced === '' ? '/' : replaced
}

function withoutTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path
}

/** `target` (path plus optional `?query`) split at the query. */
export function splitTarget(target: string): [path: string, query: string] {
  const mark = target.indexOf('?')
  return mark === -1 ? [target, ''] : [target.slice(0, mark), target.slice(mark)]
}
