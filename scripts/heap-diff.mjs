#!/usr/bin/env node
/**
 * @module Compares two V8 heap snapshots (the soak's `--snapshot-at`): object counts and self sizes by
 * constructor (node type and name), largest growth first. A snapshot is taken after a full GC, so
 * what it holds is live; a kind that grows between two snapshots taken minutes apart in a steady
 * state is the first suspect of a leak.
 *
 *   node scripts/heap-diff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [--top 30]
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

const { values: opts, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '30' } } })
if (positionals.length !== 2) {
  process.stderr.write('usage: node scripts/heap-diff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [--top 30]\n')
  process.exit(2)
}

/** type:name → { count, bytes } of one snapshot. */
function census(file) {
  const { snapshot, nodes, strings } = JSON.parse(readFileSync(file, 'utf8'))
  const fields = snapshot.meta.node_fields
  const types = snapshot.meta.node_types[0]
  const width = fields.length
  const typeAt = fields.indexOf('type')
  const nameAt = fields.indexOf('name')
  const sizeAt = fields.indexOf('self_size')
  const byKind = new Map()
  let total = 0
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]]
    // Strings and code are named by their content: count them by type alone.
    const name = type === 'object' || type === 'closure' || type === 'native' ? strings[nodes[i + nameAt]] : ''
    const kind = `${type}:${name}`
    const entry = byKind.get(kind) ?? { count: 0, bytes: 0 }
    entry.count++
    entry.bytes += nodes[i + sizeAt]
    total += nodes[i + sizeAt]
    byKind.set(kind, entry)
  }
  return { byKind, total, nodes: nodes.length / width }
}

const before = census(positionals[0])
const after = census(positionals[1])
const rows = []
for (const kind of new Set([...before.byKind.keys(), ...after.byKind.keys()])) {
  const a = before.byKind.get(kind) ?? { count: 0, bytes: 0 }
  const b = after.byKind.get(kind) ?? { count: 0, bytes: 0 }
  rows.push({ kind, countBefore: a.count, countAfter: b.count, dCount: b.count - a.count, dBytes: b.bytes - a.bytes })
}
const mb = (bytes) => (bytes / 1048576).toFixed(2)
process.stdout.write(`nodes ${before.nodes} → ${after.nodes}; self size ${mb(before.total)} → ${mb(after.total)} MB\n\n`)
process.stdout.write('| kind (type:constructor) | count before | count after | Δ count | Δ self MB |\n|---|---:|---:|---:|---:|\n')
rows.sort((x, y) => Math.abs(y.dBytes) - Math.abs(x.dBytes))
for (const row of rows.slice(0, Number(opts.top))) {
  process.stdout.write(`| ${row.kind} | ${row.countBefore} | ${row.countAfter} | ${row.dCount > 0 ? '+' : ''}${row.dCount} | ${row.dBytes > 0 ? '+' : ''}${mb(row.dBytes)} |\n`)
}
process.stdout.write('\nby count:\n')
rows.sort((x, y) => Math.abs(y.dCount) - Math.abs(x.dCount))
for (const row of rows.slice(0, Number(opts.top) / 2)) process.stdout.write(`  ${row.kind}: ${row.countBefore} → ${row.countAfter} (${row.dCount > 0 ? '+' : ''}${row.dCount})\n`)
