/**
 * @module `${VAR}` substitution in config string values, for secrets such as Redis URLs and tokens.
 *
 * Substitution runs on parsed string values, not on the raw text, so a secret containing `#`, `:`
 * or quotes can never change the YAML structure. `${VAR:-fallback}` supplies a default and `$${`
 * writes a literal `${`. A mapping value that substitution leaves empty (`password: ${PW:-}` with
 * PW unset) counts as absent, so an optional key stays optional and a default applies.
 */
import type { KeyPath } from './yaml-source.js'

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{[^}]*\}?/g
const HOW = 'write ${NAME} or ${NAME:-default}, or $${ for a literal "${"'

/** A reference that could not be substituted (variable not set, `${` not closed), with where. */
export interface EnvProblem {
  readonly path: KeyPath
  readonly message: string
}

/** A mapping value that substitution left empty, dropped as if the key were absent. */
export interface EmptiedValue {
  readonly path: KeyPath
  /** The value as written, e.g. `${REDIS_PASSWORD:-}`. */
  readonly written: string
}

/** What substitution found besides the values: problems, and keys dropped for being empty. */
export interface SubstitutionReport {
  readonly problems: EnvProblem[]
  readonly emptied: EmptiedValue[]
}

/** Returns a copy of `value` with every `${VAR}` in strings replaced from `env`. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, report: SubstitutionReport, path: KeyPath = []): unknown {
  if (typeof value === 'string') return substituteString(value, env, report, path)
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, report, [...path, index]))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      const substituted = substituteEnv(item, env, report, [...path, key])
      if (substituted === '' && typeof item === 'string' && item !== '') report.emptied.push({ path: [...path, key], written: item })
      else out[key] = substituted
    }
    return out
  }
  return value
}

function substituteString(text: string, env: NodeJS.ProcessEnv, report: SubstitutionReport, path: KeyPath): string {
  if (!text.includes('${')) return text
  return text.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${'
    if (name === undefined) {
      const message = match.endsWith('}') ? `${JSON.stringify(match)} is not a valid reference — ${HOW}, where NAME is letters, digits and _` : `"\${" is not closed — ${HOW}`
      report.problems.push({ path, message })
      return ''
    }
    const found = env[name]
    if (found !== undefined && found !== '') return found
    if (fallback !== undefined) return fallback
    report.problems.push({ path, message: `environment variable ${name} is not set — set it, or write \${${name}:-default} to give a default` })
    return ''
  })
}
