/**
 * @module Configuration errors: every problem found in a config, reported at once.
 */

/** Stable codes for what can go wrong before Latch serves anything. */
export type ConfigErrorCode =
  | 'CONFIG_UNREADABLE'
  | 'CONFIG_SYNTAX'
  | 'CONFIG_INVALID'
  | 'CONFIG_ENV'

/** One problem, pinned to a file and a key path. `line` is set when the YAML node was found. */
export interface ConfigIssue {
  readonly file: string
  /** Dotted key path such as `pools[0].endpoints[1].url`; empty for a whole-file problem. */
  readonly path: string
  readonly message: string
  readonly line?: number
}

/** Formats one issue as `FILE: key.path: message (line N)`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path === '' ? '' : `${issue.path}: `
  const line = issue.line === undefined ? '' : ` (line ${issue.line})`
  return `${issue.file}: ${where}${issue.message}${line}`
}

/** Thrown when a config cannot be used; `issues` lists every problem, in file order. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode
  readonly issues: readonly ConfigIssue[]

  constructor(code: ConfigErrorCode, issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'))
    this.name = 'ConfigError'
    this.code = code
    this.issues = issues
  }
}
