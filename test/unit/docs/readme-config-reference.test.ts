import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { ConfigSchema } from '../../../src/config/schema.js'

const REPO = resolve(import.meta.dirname, '../../..')
const CONFIG_DOC = resolve(REPO, 'docs/reference/config.md')
const GENERATOR = resolve(REPO, 'scripts/gen-docs.mjs')

function checkDoc(file: string): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [GENERATOR, '--check', '--file', file], { cwd: REPO, encoding: 'utf8' })
  return { status: result.status, output: result.stdout + result.stderr }
}

function block(text: string, name: string): string {
  const start = text.indexOf(`<!-- ${name}:start -->`)
  const end = text.indexOf(`<!-- ${name}:end -->`)
  expect(start, `docs/reference/config.md has the ${name} markers`).toBeGreaterThan(-1)
  expect(end).toBeGreaterThan(start)
  return text.slice(start, end)
}

type Node = { properties?: Record<string, Node>; items?: Node; anyOf?: Node[] }

/** Every key a user can write, as the reference names it (`pools[].timeouts.connect`). */
function schemaKeys(node: Node, path: string, out: string[]): string[] {
  for (const option of node.anyOf ?? []) schemaKeys(option, path, out)
  if (node.items !== undefined) schemaKeys(node.items, `${path}[]`, out)
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const key = path === '' ? name : `${path}.${name}`
    out.push(key)
    schemaKeys(child, key, out)
  }
  return out
}

describe('configuration reference (docs/reference/config.md)', () => {
  it('is exactly what `npm run docs` generates from the current schema', () => {
    const { status, output } = checkDoc(CONFIG_DOC)
    expect(output).toContain('config.md: generated blocks are up to date')
    expect(status).toBe(0)
  })

  it('`npm run docs --check` finds every generated block, each in exactly one file of the docs', () => {
    const result = spawnSync(process.execPath, [GENERATOR, '--check'], { cwd: REPO, encoding: 'utf8' })
    expect(result.stderr).toBe('')
    expect(result.stdout.split('\n').filter(Boolean).map((line) => line.replace(`${REPO}/`, ''))).toEqual([
      'docs/reference/admin-api.md: generated blocks are up to date',
      'docs/reference/cli.md: generated blocks are up to date',
      'docs/reference/config.md: generated blocks are up to date',
      'docs/reference/error-codes.md: generated blocks are up to date',
    ])
    expect(result.status).toBe(0)
  })

  it('refuses a block that is in two files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latch-docs-'))
    const text = readFileSync(CONFIG_DOC, 'utf8')
    writeFileSync(join(dir, 'a.md'), text)
    writeFileSync(join(dir, 'b.md'), text)
    const result = spawnSync(process.execPath, [GENERATOR, '--check', '--file', join(dir, 'a.md'), '--file', join(dir, 'b.md')], { cwd: REPO, encoding: 'utf8' })
    expect(result.stderr).toContain('the config-reference block is in')
    expect(result.stderr).toContain('keep it in one file')
    expect(result.status).toBe(1)
  })

  it('is reported stale when it differs from the schema (a schema change without `npm run docs`)', () => {
    const text = readFileSync(CONFIG_DOC, 'utf8')
    const edited = text.replace('| `server.headersTimeout` | `15s` |', '| `server.headersTimeout` | `16s` |')
    expect(edited).not.toBe(text)
    const file = join(mkdtempSync(join(tmpdir(), 'latch-docs-')), 'config.md')
    writeFileSync(file, edited)
    const { status, output } = checkDoc(file)
    expect(output).toContain('out of date: config-reference — run `npm run docs`')
    expect(output).toContain('`16s`')
    expect(status).toBe(1)
  })

  it('has a row, with a default or "required", for every key of the schema', () => {
    const reference = block(readFileSync(CONFIG_DOC, 'utf8'), 'config-reference')
    const keys = schemaKeys(z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Node, '', [])
    expect(keys).toEqual(expect.arrayContaining(['listen', 'pools[].timeouts.connect', 'routes[].rules[].http.paths[].pathType']))
    const missing = keys.filter((key) => !new RegExp(`^\\| \`${key.replace(/[.[\]]/g, '\\$&')}\` \\| [^|]+ \\| .{10,}\\|$`, 'm').test(reference))
    expect(missing).toEqual([])
  })
})
