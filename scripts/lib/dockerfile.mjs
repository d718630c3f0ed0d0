/**
 * @module A small Dockerfile reader: stages, instructions, flags and exec forms, and .dockerignore.
 *
 * It understands the subset Latch's Dockerfile uses (line continuations, comments, `FROM … AS name`,
 * `--flag=value` options, JSON exec forms) and refuses anything else loudly, so the runtime check
 * can never silently skip an instruction it does not know.
 */
import { existsSync, readFileSync } from 'node:fs'

/**
 * @typedef {{ keyword: string, flags: Record<string, string>, args: string, line: number }} Instruction
 * @typedef {{ name: string | undefined, from: string, instructions: Instruction[] }} Stage
 */

/** Parses Dockerfile text into stages (global ARGs before the first FROM are dropped). */
export function parseDockerfile(text) {
  /** @type {Stage[]} */
  const stages = []
  for (const { keyword, rest, line } of logicalLines(text)) {
    const { flags, args } = splitFlags(rest)
    if (keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args)
      if (match === null) throw new Error(`Dockerfile line ${line}: cannot read FROM ${args}`)
      stages.push({ from: match[1], name: match[2], instructions: [] })
    } else if (stages.length > 0) {
      stages.at(-1).instructions.push({ keyword, flags, args, line })
    } else if (keyword !== 'ARG') {
      throw new Error(`Dockerfile line ${line}: ${keyword} before the first FROM`)
    }
  }
  if (stages.length === 0) throw new Error('Dockerfile has no FROM')
  return stages
}

function* logicalLines(text) {
  let pending = ''
  let start = 0
  const lines = text.split('\n')
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index].trimEnd()
    if (pending === '' && (raw.trim() === '' || raw.trimStart().startsWith('#'))) continue
    if (pending === '') start = index + 1
    if (raw.endsWith('\\')) {
      pending += `${raw.slice(0, -1)} `
      continue
    }
    const full = (pending + raw).trim()
    pending = ''
    const space = full.search(/\s/)
    yield { keyword: (space === -1 ? full : full.slice(0, space)).toUpperCase(), rest: space === -1 ? '' : full.slice(space).trim(), line: start }
  }
}

/** Splits leading `--name=value` options from the instruction's arguments. */
function splitFlags(rest) {
  /** @type {Record<string, string>} */
  const flags = {}
  let args = rest
  for (let match = /^--([a-z-]+)=(\S+)\s*/.exec(args); match !== null; match = /^--([a-z-]+)=(\S+)\s*/.exec(args)) {
    flags[match[1]] = match[2]
    args = args.slice(match[0].length)
  }
  return { flags, args }
}

/** Reads a JSON exec form (`["node", "x.js"]`); shell forms are refused because they behave differently. */
export function execForm(instruction) {
  const args = instruction.keyword === 'HEALTHCHECK' ? instruction.args.replace(/^CMD\s+/, '') : instruction.args
  if (!args.startsWith('[')) throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} must use the exec form ["node", ...]`)
  const parsed = JSON.parse(args)
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((part) => typeof part === 'string')) {
    throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} must be a non-empty list of strings`)
  }
  return parsed
}

/** Parses `ENV A=1 B="two"` into pairs. */
export function envPairs(instruction) {
  /** @type {Record<string, string>} */
  const pairs = {}
  for (const match of instruction.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) pairs[match[1]] = match[3] ?? match[2]
  if (Object.keys(pairs).length === 0) throw new Error(`Dockerfile line ${instruction.line}: write ENV as NAME=value`)
  return pairs
}

/** A predicate telling whether a context-relative path is excluded by `.dockerignore`. */
export function dockerignoreFilter(file) {
  if (!existsSync(file)) return () => false
  const rules = readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => ({ negate: line.startsWith('!'), regex: globToRegex(line.replace(/^!/, '').replace(/^\/+|\/+$/g, '')) }))
  return (path) => {
    let ignored = false
    for (const rule of rules) if (rule.regex.test(path)) ignored = !rule.negate
    return ignored
  }
}

/** Docker's pattern rules, simplified: `*` within a segment, `**` across segments; a match covers everything below. */
function globToRegex(pattern) {
  const body = pattern
    .split('/')
    .map((segment) => (segment === '**' ? '.*' : segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
    .join('/')
  return new RegExp(`^${body.replace(/\.\*\//g, '(?:.*/)?')}(?:/.*)?$`)
}
