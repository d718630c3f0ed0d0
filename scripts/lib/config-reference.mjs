/**
 * @module Renders the README's configuration reference from the config schema, one table per top-level key.
 *
 * It walks `z.toJSONSchema(ConfigSchema, { io: 'input' })`, so keys, defaults (as the user writes
 * them: `3s`, not 3000) and descriptions come from src/config/schema.ts alone. A key without a
 * description stops the generator: every key a user can write must be documented.
 */
import { z } from 'zod'
import { tableCell } from './markdown.mjs'

/**
 * @typedef {{ type?: string | string[], properties?: Record<string, JsonSchema>, required?: string[], items?: JsonSchema, anyOf?: JsonSchema[],
 *   description?: string, default?: unknown, enum?: unknown[], minimum?: number, maximum?: number, minItems?: number, minLength?: number, pattern?: string }} JsonSchema
 * @typedef {{ key: string, default: string, description: string }} Row
 */

/** The whole reference as Markdown: a heading and table for each top-level key. */
export function renderConfigReference(configSchema) {
  /** @type {JsonSchema} */
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' })
  const sections = []
  for (const [name, node] of Object.entries(root.properties ?? {})) {
    /** @type {Row[]} */
    const rows = []
    addRow(rows, name, node, (root.required ?? []).includes(name))
    walk(node, name, rows)
    sections.push(`### \`${name}\`\n\n| Key | Default | Description |\n| --- | --- | --- |\n${rows.map(formatRow).join('\n')}\n`)
  }
  return sections.join('\n')
}

/** Adds rows for everything below `node` (object properties, list items, union members). */
function walk(node, path, rows) {
  for (const option of node.anyOf ?? []) walk(option, path, rows)
  if (node.items !== undefined) walk(node.items, `${path}[]`, rows)
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const childPath = `${path}.${name}`
    addRow(rows, childPath, child, (node.required ?? []).includes(name))
    walk(child, childPath, rows)
  }
}

function addRow(rows, key, node, required) {
  if (node.description === undefined || node.description.trim() === '') {
    throw new Error(`config key ${key} has no description — add .meta({ description }) to it in src/config/*schema*.ts`)
  }
  const shown = required ? '**required**' : 'default' in node ? formatDefault(node.default) : '—'
  rows.push({ key, default: shown, description: [node.description, ...constraints(node)].join(' ') })
}

function formatDefault(value) {
  if (typeof value === 'string') return value === '' ? '`""`' : `\`${value}\``
  return `\`${JSON.stringify(value)}\``
}

/** What the schema itself says about allowed values, in words. */
function constraints(node) {
  const out = []
  const item = node.items ?? node
  if (item.enum !== undefined) out.push(`One of ${item.enum.map((value) => `\`${value}\``).join(', ')}.`)
  if (item.type === 'integer') out.push(`Whole number, ${item.minimum ?? 'any'} to ${item.maximum ?? 'any'}.`)
  if (node.minItems !== undefined && node.minItems > 0) out.push(`At least ${node.minItems}.`)
  if (item.pattern !== undefined) out.push(`Must match \`${item.pattern}\`.`)
  return out
}

function formatRow(row) {
  return `| \`${row.key}\` | ${tableCell(row.default)} | ${tableCell(row.description)} |`
}
