/**
 * The OpenTelemetry SDK is loaded only when spans are exported: no module of the build imports it
 * statically (type imports are erased), and the one that loads it does so with `import()`.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const DIST = resolve(import.meta.dirname, '../../../dist')

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => (entry.isDirectory() ? jsFiles(join(dir, entry.name)) : entry.name.endsWith('.js') ? [join(dir, entry.name)] : []))
}

describe('the OpenTelemetry SDK', () => {
  it('is never imported statically by the build (dist/)', () => {
    const files = jsFiles(DIST)
    expect(files.length).toBeGreaterThan(100)
    const staticImports = files.filter((file) => /^\s*(import|export)\b[^;(]*from\s*['"]@opentelemetry\//m.test(readFileSync(file, 'utf8'))).map((file) => relative(DIST, file))
    expect(staticImports).toEqual([])
  })

  it('is loaded with import() by span-export.js only', () => {
    const loaders = jsFiles(DIST).filter((file) => /import\(['"]@opentelemetry\//.test(readFileSync(file, 'utf8'))).map((file) => relative(DIST, file))
    expect(loaders).toEqual(['observability/span-export.js'])
  })
})
