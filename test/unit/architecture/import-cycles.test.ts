/**
 * No import cycles in src/ (type-only imports count: they tie the modules' designs together just the
 * same), checked by dpdm; and the layering the cycle fix rests on: pools know nothing of sessions.
 */
import { resolve } from 'node:path'
import { parseCircular, parseDependencyTree, type DependencyTree } from 'dpdm'
import { beforeAll, describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../../..')

let tree: DependencyTree

beforeAll(async () => {
  tree = await parseDependencyTree('src/**/*.ts', { cwd: ROOT, context: ROOT, tsconfig: resolve(ROOT, 'tsconfig.json'), transform: false, skipDynamicImports: false })
}, 60_000)

/** The files `file` imports (resolved, relative to the repository). */
function importsOf(file: string): string[] {
  return (tree[file] ?? []).flatMap((dependency) => (dependency.id === null ? [] : [dependency.id]))
}

describe('the module graph of src/', () => {
  it('has every source file (the checker really read the tree)', () => {
    expect(Object.keys(tree).filter((file) => file.startsWith('src/')).length).toBeGreaterThan(100)
    expect(importsOf('src/proxying/runtime.ts')).toContain('src/upstream/upstream-pool.ts')
  })

  it('has no import cycles', () => {
    expect(parseCircular(tree).map((cycle) => cycle.join(' -> '))).toEqual([])
  })

  it('src/upstream/ imports nothing from affinity/ or stores/ (sessions sit above pools)', () => {
    const upward = Object.keys(tree)
      .filter((file) => file.startsWith('src/upstream/'))
      .flatMap((file) => importsOf(file).filter((id) => /^src\/(affinity|stores)\//.test(id)).map((id) => `${file} -> ${id}`))
    expect(upward).toEqual([])
  })
})
