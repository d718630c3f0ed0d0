/**
 * @module `${VAR}` substitution in config string values, for secrets such as Redis URLs and tokens.
 *
 * Substitution runs on parsed string values, not on the raw text, so a secret containing `#`, `:`
 * or quotes can never change the YAML structure. `${VAR:-fallback}` supplies a default and `$${`
 * writes a literal `${`.
 */
import type { KeyPath } from './yaml-source.js'

const PATTERN = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

/** A variable that was referenced but not set, with where it was referenced. */
export interface MissingVariable {
  readonly name: string
  readonly path: KeyPath
}

/** Returns a copy of `value` with every `${VAR}` in strings replaced from `env`. */
export function substituteEnv(value: unknown, env: NodeJS.ProcessEnv, missing: MissingVariable[], path: KeyPath = []): unknown {
  if (typeof value === 'string') return substituteString(value, env, missing, path)
  if (Array.isArray(value)) return value.map((item, index) => substituteEnv(item, env, missing, [...path, index]))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = substituteEnv(item, env, missing, [...path, key])
    return out
  }
  return value
}

function substituteString(text: string, env: NodeJS.ProcessEnv, missing: MissingVariable[], path: KeyPath): string {
  if (!text.includes('${')) return text
  return text.replace(PATTERN, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${'
    const found = env[name as string]
    if (found !== undefined && found !== '') return found
    if (fallback !== undefined) return fallback
    missing.push({ name: name as string, path })
    return ''
  })
}
