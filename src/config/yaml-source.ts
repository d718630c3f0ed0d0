/**
 * @module Reads YAML/JSON config text into plain values, keeping a way back to line numbers.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Document, LineCounter, Node } from 'yaml'
import type { ConfigIssue } from '../errors/config-error.js'

export type KeyPath = readonly (string | number)[]

/** One parsed YAML document with a line lookup for key paths. */
export interface YamlDocument {
  readonly value: unknown
  /** The 1-based line of the node at `path` (or of the key, when `key` is set), if it exists. */
  lineOf(path: KeyPath, key?: string): number | undefined
}

/** Formats a key path as `pools[0].endpoints[1].url`. */
export function formatKeyPath(path: KeyPath): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else out += out === '' ? part : `.${part}`
  }
  return out
}

/** Reads a file, turning any failure into one precise issue. */
export function readText(file: string, label: string): { text: string } | { issue: ConfigIssue; why: string } {
  try {
    return { text: readFileSync(file, 'utf8') }
  } catch (error) {
    const err = error as NodeJS.ErrnoException
    const why =
      err.code === 'ENOENT' ? 'file not found'
      : err.code === 'EACCES' ? 'permission denied'
      : err.code === 'EISDIR' ? 'is a directory, expected a file'
      : `cannot read (${err.code ?? err.message})`
    return { issue: { file: label, path: '', message: `${why} — expected a readable YAML or JSON file` }, why }
  }
}

/** Parses every document of a YAML stream; syntax errors become issues with line numbers. */
export function parseYamlDocuments(text: string, label: string): { documents: YamlDocument[] } | { issues: ConfigIssue[] } {
  // Loaded when a file is read: quick mode (flags only) never parses YAML.
  const { isMap, LineCounter, parseAllDocuments } = createRequire(import.meta.url)('yaml') as typeof import('yaml')
  const lineCounter = new LineCounter()
  const docs = parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true, merge: true })
  const list = Array.isArray(docs) ? docs : [docs]
  const issues: ConfigIssue[] = []
  for (const doc of list) {
    for (const error of doc.errors) {
      const line = lineCounter.linePos(error.pos[0]).line
      issues.push({ file: label, path: '', message: `YAML syntax error: ${firstLine(error.message)}`, line })
    }
  }
  if (issues.length > 0) return { issues }
  return { documents: list.map((doc) => wrap(doc, lineCounter, isMap)) }
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '')
}

function wrap(doc: Document.Parsed, lineCounter: LineCounter, isMap: typeof import('yaml').isMap): YamlDocument {
  return {
    value: doc.toJS({ maxAliasCount: 100 }) as unknown,
    lineOf(path, key) {
      const node = doc.getIn(path, true) as Node | undefined
      let range = node?.range
      if (key !== undefined && isMap(node)) {
        const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key)
        range = (pair?.key as Node | undefined)?.range ?? range
      }
      if ((range === undefined || range === null) && path.length > 0) return this.lineOf(path.slice(0, -1))
      return range === undefined || range === null ? undefined : lineCounter.linePos(range[0]).line
    },
  }
}

/** True for a YAML document that holds nothing (empty file or only comments). */
export function isEmptyDocument(doc: YamlDocument): boolean {
  return doc.value === null || doc.value === undefined
}
