/**
 * @module Renders the README's error-code table from ERRORS (src/errors/proxy-error.ts).
 *
 * A code that the built code never names outside the table itself is marked as reserved, so the
 * README does not promise a response this version cannot send (codes are defined ahead of the
 * features that will send them); the mark goes away by itself (and
 * the drift test asks for `npm run docs`) once code starts using it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { filesBelow } from './files.mjs'
import { tableCell } from './markdown.mjs'

const RESERVED = '*Reserved: nothing in this version sends it yet.*'

/** The table as Markdown, in ERRORS order. `distDir` is the built code scanned for uses. */
export function renderErrorTable(errors, distDir) {
  const used = codesUsed(distDir, Object.keys(errors))
  const rows = Object.entries(errors).map(([code, spec]) => {
    const meaning = used.has(code) ? spec.summary : `${spec.summary}. ${RESERVED}`
    return `| \`${code}\` | ${spec.status} | ${spec.source} | ${tableCell(meaning)} |`
  })
  return `| Code | Status | Source | When |\n| --- | --- | --- | --- |\n${rows.join('\n')}\n`
}

function codesUsed(distDir, codes) {
  const used = new Set()
  for (const file of filesBelow(distDir, /\.js$/)) {
    if (file.endsWith(join('errors', 'proxy-error.js'))) continue
    const text = readFileSync(file, 'utf8')
    for (const code of codes) if (text.includes(`'${code}'`) || text.includes(`"${code}"`)) used.add(code)
  }
  return used
}

/** The admin API's error table, in ADMIN_ERRORS order (src/admin/admin-error.ts). */
export function renderAdminErrorTable(errors) {
  const rows = Object.entries(errors).map(([code, spec]) => `| \`${code}\` | ${spec.status} | ${tableCell(spec.summary)} |`)
  return `| Code | Status | When |\n| --- | --- | --- |\n${rows.join('\n')}\n`
}
