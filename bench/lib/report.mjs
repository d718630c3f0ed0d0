/**
 * @module Turns run records into the summary (medians over repeats, same-repeat ratios) and the printed table.
 */

/** Median of numbers (undefined when there are none). */
export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Per repeat, `num`'s req/s ÷ the req/s of the record `denOf(record)` picks in the same repeat; and their median. */
function ratios(records, denOf) {
  const perRepeat = []
  for (const record of records) {
    const den = denOf(record)
    if (den?.ok) perRepeat.push({ repeat: record.repeat, ratio: record.load.rps / den.load.rps })
  }
  return { median: median(perRepeat.map((r) => r.ratio)), perRepeat }
}

function figures(ok) {
  const rps = ok.map((r) => r.load.rps)
  return {
    runs: ok.length,
    rps: { median: median(rps), min: Math.min(...rps), max: Math.max(...rps) },
    p50Ms: median(ok.map((r) => r.load.p50Ms)),
    p99Ms: median(ok.map((r) => r.load.p99Ms)),
    errors: ok.reduce((sum, r) => sum + r.load.errors, 0),
    non2xx: ok.reduce((sum, r) => sum + r.load.non2xx, 0),
    latchCpuPct: median(ok.map((r) => r.latchCpuPct)),
    peakRssMb: ok.some((r) => r.peakRssKb !== undefined) ? Math.max(...ok.map((r) => r.peakRssKb ?? 0)) / 1024 : undefined,
    loadgenCpuPct: median(ok.map((r) => r.loadgenCpuPct)),
    failedChecks: [...new Set(ok.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => c.name)))],
  }
}

/** One summary row per direct shape and per scenario, in run order. */
export function summarize(records, scenarios, scenarioTable) {
  const ok = records.filter((r) => r.ok)
  const find = (target, key, repeat) => ok.find((r) => r.target === target && r.repeat === repeat && (target === 'direct' ? r.shape === key : r.scenario === key))
  const rows = []
  for (const shape of [...new Set(scenarios.map((name) => scenarioTable[name].shape))]) {
    const mine = ok.filter((r) => r.target === 'direct' && r.shape === shape)
    rows.push({ label: `direct (${shape})`, target: 'direct', shape, failedRuns: records.filter((r) => !r.ok && r.target === 'direct' && r.shape === shape).length, ...figures(mine) })
  }
  for (const name of scenarios) {
    const { shape, baseline } = scenarioTable[name]
    const mine = ok.filter((r) => r.target === 'latch' && r.scenario === name)
    const vsDirect = ratios(mine, (r) => find('direct', shape, r.repeat))
    const vsBaseline = baseline !== undefined && scenarios.includes(baseline) ? { of: baseline, ...ratios(mine, (r) => find('latch', baseline, r.repeat)) } : undefined
    rows.push({ label: name, target: 'latch', shape, failedRuns: records.filter((r) => !r.ok && r.scenario === name).length, ...figures(mine), vsDirect, vsBaseline })
  }
  return rows
}

const fmt = (value, digits = 0) => (value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits))

/** A ratio's median, with the per-repeat range when there is more than one repeat. */
function fmtRatio({ median: mid, perRepeat }) {
  const values = perRepeat.map((r) => r.ratio)
  return values.length > 1 ? `${fmt(mid, 3)} (${fmt(Math.min(...values), 2)}–${fmt(Math.max(...values), 2)})` : fmt(mid, 3)
}

function cells(row) {
  if (row.runs === 0) return [row.label, '(no successful run)', '', '', '', '', '', '', '', '', '']
  const range = row.runs > 1 ? ` (${fmt(row.rps.min)}–${fmt(row.rps.max)})` : ''
  const checks = row.failedRuns > 0 ? `⚠ ${row.failedRuns} run(s) failed` : row.failedChecks.length > 0 ? `⚠ ${row.failedChecks.join('; ')}` : row.target === 'latch' ? 'ok' : ''
  return [
    row.label,
    `${fmt(row.rps.median)}${range}`,
    row.vsDirect === undefined ? '' : fmtRatio(row.vsDirect),
    row.vsBaseline === undefined ? '' : `${fmtRatio(row.vsBaseline)} ÷ ${row.vsBaseline.of}`,
    fmt(row.p50Ms, 2),
    fmt(row.p99Ms, 2),
    `${row.errors} / ${row.non2xx}`,
    fmt(row.latchCpuPct),
    fmt(row.peakRssMb, 1),
    fmt(row.loadgenCpuPct),
    checks,
  ]
}

const HEADER = ['scenario', 'req/s median (min–max)', '× direct', '× baseline', 'p50 ms', 'p99 ms', 'errors / non-2xx', 'Latch CPU %', 'peak RSS MB', 'load-gen CPU %', 'checks']

/** The summary as a Markdown table, columns padded for the terminal. */
export function formatTable(rows) {
  const table = [HEADER, ...rows.map(cells)]
  const widths = HEADER.map((_, i) => Math.max(...table.map((line) => [...line[i]].length)))
  const line = (values) => `| ${values.map((v, i) => v + ' '.repeat(widths[i] - [...v].length)).join(' | ')} |`
  return [line(HEADER), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.slice(1).map(line)].join('\n')
}
