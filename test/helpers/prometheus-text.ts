/**
 * @module A strict parser for the Prometheus text exposition format (0.0.4), for metrics tests.
 *
 * prom-client renders but does not parse; this reads HELP/TYPE lines and samples, groups samples
 * into families (histogram `_bucket`/`_sum`/`_count` under their family) and throws on any line it
 * cannot read, so a malformed exposition fails the test.
 */

/** One sample line. */
export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** A metric family: its TYPE, HELP and samples. */
export interface MetricFamily {
  readonly name: string
  type: string
  help: string
  readonly samples: Sample[]
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y
const SUFFIXES = ['_bucket', '_sum', '_count', '_total', '_created']

/** Parses an exposition into families by name. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>()
  const family = (name: string): MetricFamily => {
    let found = families.get(name)
    if (found === undefined) families.set(name, (found = { name, type: 'untyped', help: '', samples: [] }))
    return found
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) ?(.*)$/.exec(line)
    if (meta !== null) {
      if (meta[1] === 'HELP') family(meta[2] as string).help = meta[3] as string
      else family(meta[2] as string).type = meta[3] as string
      continue
    }
    if (line.startsWith('#')) continue
    const sample = parseSample(line)
    family(familyOf(sample.name, families)).samples.push(sample)
  }
  return families
}

function parseSample(line: string): Sample {
  const match = SAMPLE.exec(line)
  if (match === null) throw new Error(`not a Prometheus sample line: ${line}`)
  const labels: Record<string, string> = {}
  const body = match[2] ?? ''
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < body.length) {
    const label = LABEL.exec(body)
    if (label === null) throw new Error(`bad labels in: ${line}`)
    labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_all, char: string) => (char === 'n' ? '\n' : char))
  }
  // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any letter case.
  const raw = (match[3] as string).toLowerCase()
  const value = raw === '+inf' || raw === 'inf' ? Infinity : raw === '-inf' ? -Infinity : Number(raw)
  if (Number.isNaN(value) && raw !== 'nan') throw new Error(`bad value in: ${line}`)
  return { name: match[1] as string, labels, value }
}

/** The family a sample belongs to: its own name if declared, else its name without a known suffix. */
function familyOf(name: string, families: ReadonlyMap<string, MetricFamily>): string {
  if (families.has(name)) return name
  const suffix = SUFFIXES.find((candidate) => name.endsWith(candidate) && families.has(name.slice(0, -candidate.length)))
  return suffix === undefined ? name : name.slice(0, -suffix.length)
}

/** Samples of `name` (a sample name, e.g. `x_bucket`) whose labels include `labels`. */
export function samplesOf(families: ReadonlyMap<string, MetricFamily>, name: string, labels: Readonly<Record<string, string>> = {}): Sample[] {
  const all = [...families.values()].flatMap((family) => family.samples)
  return all.filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
}

/** The value of the one sample of `name` whose labels are exactly `labels`; undefined if there is none. */
export function valueOf(families: ReadonlyMap<string, MetricFamily>, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  const matching = samplesOf(families, name, labels).filter((sample) => Object.keys(sample.labels).length === Object.keys(labels).length)
  if (matching.length > 1) throw new Error(`${matching.length} samples of ${name} match ${JSON.stringify(labels)}`)
  return matching[0]?.value
}
