/**
 * @module Turns run records into the summary (medians over repeats, same-repeat ratios) and the printed table.
 *
 * A ratio compares Latch configurations only when both runs were limited by Latch: a repeat whose either run
 * had its load side (load generator + upstreams + redis-server) above `maxLoadgenCpu` % of its CPU measured
 * the load generator, so the ratio is refused rather than printed.
 */

/** Median of numbers (undefined when there are none). */
export function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** The load side's CPU of a run (load generator alone when the upstreams could not be sampled). */
function loadSide(record) {
  return record.loadSideCpuPct ?? record.loadgenCpuPct
}

/** Per repeat, the record's req/s ÷ its baseline's req/s of the same repeat; refused when either run was load-bound. */
function ratios(records, denOf, maxLoadgenCpu) {
  const perRepeat = []
  for (const record of records) {
    const den = denOf(record)
    if (!den?.ok) continue
    const worst = Math.max(loadSide(record) ?? 0, loadSide(den) ?? 0)
    const unmeasured = loadSide(record) === undefined || loadSide(den) === undefined
    perRepeat.push({ repeat: record.repeat, ratio: record.load.rps / den.load.rps, loadSideCpuPct: worst, valid: !unmeasured && worst <= maxLoadgenCpu })
  }
  const refused = perRepeat.filter((r) => !r.valid)
  return {
    median: refused.length === 0 ? median(perRepeat.map((r) => r.ratio)) : undefined,
    perRepeat,
    refused: refused.length,
    worstLoadSideCpuPct: Math.max(...perRepeat.map((r) => r.loadSideCpuPct)),
  }
}

/** Latch CPU time per request (µs): a cost that does not depend on how much of its core Latch was given. */
function latchUsPerRequest(record) {
  return record.latchCpuPct === undefined ? undefined : ((record.latchCpuPct / 100) * record.windowS * 1e6) / record.load.requests
}

/** Per repeat, the baseline's Latch CPU per request ÷ the record's (requests per CPU-second, this ÷ baseline). */
function efficiencyRatios(records, denOf) {
  const perRepeat = []
  for (const record of records) {
    const den = denOf(record)
    const a = latchUsPerRequest(record)
    const b = den?.ok ? latchUsPerRequest(den) : undefined
    if (a !== undefined && b !== undefined) perRepeat.push({ repeat: record.repeat, ratio: b / a })
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
    latchUsPerRequest: median(ok.map(latchUsPerRequest)),
    peakRssMb: ok.some((r) => r.peakRssKb !== undefined) ? Math.max(...ok.map((r) => r.peakRssKb ?? 0)) / 1024 : undefined,
    loadgenCpuPct: { median: median(ok.map((r) => r.loadgenCpuPct)), max: Math.max(...ok.map((r) => r.loadgenCpuPct ?? 0)) },
    loadSideCpuPct: { median: median(ok.map(loadSide)), max: Math.max(...ok.map((r) => loadSide(r) ?? 0)) },
    loadgenCoreBusyPct: median(ok.map((r) => r.loadgenCoreBusyPct)),
    failedChecks: [...new Set(ok.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => c.name)))],
  }
}

/** One summary row per scenario, in the order given. */
export function summarize(records, scenarios, scenarioTable, maxLoadgenCpu) {
  const ok = records.filter((r) => r.ok)
  const find = (name, repeat) => ok.find((r) => r.scenario === name && r.repeat === repeat)
  return scenarios.map((name) => {
    const { baseline } = scenarioTable[name]
    const mine = ok.filter((r) => r.scenario === name)
    const paired = baseline !== undefined && scenarios.includes(baseline)
    const vsBaseline = paired ? { of: baseline, ...ratios(mine, (r) => find(baseline, r.repeat), maxLoadgenCpu) } : undefined
    const cpuVsBaseline = paired ? { of: baseline, ...efficiencyRatios(mine, (r) => find(baseline, r.repeat)) } : undefined
    return { label: name, failedRuns: records.filter((r) => !r.ok && r.scenario === name).length, ...figures(mine), vsBaseline, cpuVsBaseline }
  })
}

const fmt = (value, digits = 0) => (value === undefined || !Number.isFinite(value) ? '—' : value.toFixed(digits))

/** A ratio's median with the per-repeat range, or why it is refused. */
function fmtRatio({ median: mid, perRepeat, refused = 0, worstLoadSideCpuPct, of }, maxLoadgenCpu) {
  if (perRepeat.length === 0) return ''
  if (refused > 0) return `refused: load side ${fmt(worstLoadSideCpuPct)} % > ${maxLoadgenCpu} % in ${refused} of ${perRepeat.length} repeats`
  const values = perRepeat.map((r) => r.ratio)
  const range = values.length > 1 ? ` (${fmt(Math.min(...values), 2)}–${fmt(Math.max(...values), 2)})` : ''
  return `${fmt(mid, 3)}${range} ÷ ${of}`
}

function cells(row, maxLoadgenCpu) {
  if (row.runs === 0) return [row.label, '(no successful run)', ...HEADER.slice(2).map(() => '')]
  const range = row.runs > 1 ? ` (${fmt(row.rps.min)}–${fmt(row.rps.max)})` : ''
  const checks = row.failedRuns > 0 ? `⚠ ${row.failedRuns} run(s) failed` : row.failedChecks.length > 0 ? `⚠ ${row.failedChecks.join('; ')}` : 'ok'
  return [
    row.label,
    `${fmt(row.rps.median)}${range}`,
    row.vsBaseline === undefined ? '' : fmtRatio(row.vsBaseline, maxLoadgenCpu),
    fmt(row.p50Ms, 2),
    fmt(row.p99Ms, 2),
    `${row.errors} / ${row.non2xx}`,
    row.cpuVsBaseline === undefined ? '' : fmtRatio(row.cpuVsBaseline, maxLoadgenCpu),
    fmt(row.latchCpuPct),
    fmt(row.latchUsPerRequest, 1),
    `${fmt(row.loadgenCpuPct.median)} (max ${fmt(row.loadgenCpuPct.max)})`,
    `${fmt(row.loadSideCpuPct.median)} (max ${fmt(row.loadSideCpuPct.max)})`,
    fmt(row.peakRssMb, 1),
    checks,
  ]
}

const HEADER = ['scenario', 'req/s median (min–max)', '× baseline, median (min–max)', 'p50 ms', 'p99 ms', 'errors / non-2xx', 'req per Latch CPU-s × baseline', 'Latch CPU %', 'Latch CPU µs/req', 'load-gen CPU %', 'load side CPU %', 'peak RSS MB', 'checks']

/** The summary as a Markdown table, columns padded for the terminal. */
export function formatTable(rows, maxLoadgenCpu) {
  const table = [HEADER, ...rows.map((row) => cells(row, maxLoadgenCpu))]
  const widths = HEADER.map((_, i) => Math.max(...table.map((line) => [...line[i]].length)))
  const line = (values) => `| ${values.map((v, i) => v + ' '.repeat(widths[i] - [...v].length)).join(' | ')} |`
  return [line(HEADER), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...table.slice(1).map(line)].join('\n')
}
