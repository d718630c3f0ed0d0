/**
 * @module Markdown helpers for the generated README tables.
 */

/**
 * Makes text safe inside a GFM table cell: `|` is escaped everywhere (GFM requires it even in code
 * spans), a backslash outside code spans is doubled so it is shown, and newlines become spaces.
 */
export function tableCell(text) {
  return text
    .split('`')
    .map((part, index) => (index % 2 === 0 ? part.replace(/\\/g, '\\\\') : part))
    .join('`')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ')
}
