/**
 * @module Lists files below a directory, for the scripts that read built code.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'

/** Yields every file below `dir` whose name matches `pattern`, skipping node_modules. */
export function* filesBelow(dir, pattern) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) yield* filesBelow(path, pattern)
    else if (pattern.test(entry.name)) yield path
  }
}
