/**
 * @module Turns zod validation issues into `key.path: what is wrong, what is expected` messages.
 */
import { distance } from 'fastest-levenshtein'
import { z } from 'zod'
import type { ConfigIssue } from '../errors/config-error.js'
import { formatKeyPath, type KeyPath, type YamlDocument } from './yaml-source.js'

type Issue = z.core.$ZodIssue
type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema; anyOf?: JsonSchema[]; oneOf?: JsonSchema[] }

/** Where the validated value sits: its file, its YAML document and its key path inside it. */
export interface IssueLocation {
  readonly file: string
  readonly doc: YamlDocument | undefined
  /** Key path of the validated value inside `doc` (the schema root). */
  readonly base?: KeyPath
  /** Shown before every key path, e.g. `documents[1].` in multi-document files. */
  readonly displayPrefix?: string
}

/** Converts every zod issue to a ConfigIssue, with line numbers from the YAML document. */
export function toConfigIssues(error: z.ZodError, schema: z.ZodType, location: IssueLocation): ConfigIssue[] {
  const out: ConfigIssue[] = []
  const ctx: Context = { ...location, jsonSchema: lazyJsonSchema(schema), base: location.base ?? [] }
  for (const issue of error.issues) collect(issue, [], out, ctx)
  return out
}

interface Context extends IssueLocation {
  readonly base: KeyPath
  readonly jsonSchema: () => JsonSchema
}

function collect(issue: Issue, base: KeyPath, out: ConfigIssue[], ctx: Context): void {
  const path = [...base, ...(issue.path as (string | number)[])]
  if (issue.code === 'invalid_union') {
    const branch = bestBranch(issue.errors)
    if (branch !== undefined) {
      for (const inner of branch) collect(inner, path, out, ctx)
      return
    }
  }
  if (issue.code === 'unrecognized_keys') {
    for (const key of issue.keys) {
      const allowed = allowedKeys(ctx.jsonSchema(), path)
      out.push(make(ctx, [...path, key], unknownKeyMessage(key, allowed), key))
    }
    return
  }
  out.push(make(ctx, path, describeIssue(issue)))
}

function make(ctx: Context, rawPath: KeyPath, message: string, key?: string): ConfigIssue {
  const path = alignToDocument(ctx, rawPath)
  const keyParent = key === undefined ? path : path.slice(0, -1)
  const line = ctx.doc?.lineOf([...ctx.base, ...keyParent], key)
  const shown = (ctx.displayPrefix ?? '') + formatKeyPath([...ctx.base, ...path])
  return line === undefined ? { file: ctx.file, path: shown, message } : { file: ctx.file, path: shown, message, line }
}

/**
 * Drops path segments that exist only because of shorthand forms: `listen: ":80"` is validated as
 * `listen[0].address`, but the user wrote `listen`, so that is what the message names.
 */
function alignToDocument(ctx: Context, path: KeyPath): KeyPath {
  let current: unknown = ctx.doc?.value
  for (const part of ctx.base) current = (current as Record<string | number, unknown> | undefined)?.[part]
  if (current === undefined) return path
  const out: (string | number)[] = []
  for (const part of path) {
    if (typeof part === 'number' && !Array.isArray(current)) continue
    if (current === null || typeof current !== 'object') break
    out.push(part)
    current = (current as Record<string | number, unknown>)[part]
  }
  return out
}

/**
 * Of a union's branches, the one that got furthest: not a plain type mismatch at its root, and not a
 * manifest branch for another `kind` (an Ingress spec is not reported as a broken HTTPRoute).
 */
function bestBranch(branches: readonly (readonly Issue[])[]): readonly Issue[] | undefined {
  const meaningful = branches.filter((issues) => !(issues.length === 1 && issues[0]?.code === 'invalid_type' && issues[0].path.length === 0) && !issues.some(isOtherKind))
  return meaningful[0]
}

function isOtherKind(issue: Issue): boolean {
  return issue.code === 'invalid_value' && issue.path.length === 1 && issue.path[0] === 'kind'
}

function describeIssue(issue: Issue): string {
  const input = (issue as { input?: unknown }).input
  let message = issue.message
  if (issue.code === 'invalid_type' && input === undefined) {
    const expected = message.startsWith('Invalid input') ? `expected ${issue.expected}` : message
    return `missing required key — ${expected}`
  }
  const zodDefault = /^Invalid input: expected (.+), received .+$/.exec(message)
  if (zodDefault !== null) message = `expected ${zodDefault[1]}`
  // Keep a union's own message (e.g. "expected a duration such as 250ms"); replace only zod's generic one.
  if (issue.code === 'invalid_union' && message.startsWith('Invalid input')) message = 'value does not match any accepted form — see the configuration reference'
  if (input === undefined || typeof input === 'object' || message.includes('"')) return message
  return `${message}, got ${describeValue(input)}${issue.code === 'invalid_value' ? didYouMean(input, issue.values) : ''}`
}

/** ` (did you mean "x"?)` when a misspelt keyword is close to one of the accepted values, else ''. */
export function didYouMean(input: unknown, accepted: readonly unknown[]): string {
  if (typeof input !== 'string') return ''
  const guess = closest(input, accepted.filter((value): value is string => typeof value === 'string'))
  return guess === undefined ? '' : ` (did you mean "${guess}"?)`
}

/** Short, safe rendering of a config value for a message. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)
  if (Array.isArray(value)) return 'a list'
  if (value === null) return 'null'
  if (typeof value === 'object') return 'a mapping'
  return String(value)
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  if (allowed.length === 0) return `unknown key ${JSON.stringify(key)}`
  const guess = closest(key, allowed)
  const hint = guess === undefined ? '' : ` (did you mean "${guess}"?)`
  return `unknown key ${JSON.stringify(key)}${hint} — expected one of: ${allowed.join(', ')}`
}

function lazyJsonSchema(schema: z.ZodType): () => JsonSchema {
  let cached: JsonSchema | undefined
  return () => (cached ??= z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema)
}

/** Keys allowed at `path`, found by walking the JSON Schema rendering of the zod schema. */
function allowedKeys(root: JsonSchema, path: KeyPath): string[] {
  let nodes: JsonSchema[] = [root]
  for (const part of path) {
    const next: JsonSchema[] = []
    for (const node of expand(nodes)) {
      if (typeof part === 'number' && node.items !== undefined) next.push(node.items)
      if (typeof part === 'string' && node.properties?.[part] !== undefined) next.push(node.properties[part])
    }
    nodes = next
  }
  const keys = new Set<string>()
  for (const node of expand(nodes)) for (const key of Object.keys(node.properties ?? {})) keys.add(key)
  return [...keys]
}

function expand(nodes: readonly JsonSchema[]): JsonSchema[] {
  const out: JsonSchema[] = []
  for (const node of nodes) {
    out.push(node)
    for (const option of [...(node.anyOf ?? []), ...(node.oneOf ?? [])]) out.push(...expand([option]))
  }
  return out
}

/** The candidate within a few edits of `word` or a prefix of it (case-insensitive), if any; a far-off word gets no guess. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1
  for (const candidate of candidates) {
    const edits = distance(word.toLowerCase(), candidate.toLowerCase())
    if (edits < bestDistance) {
      best = candidate
      bestDistance = edits
    }
  }
  if (best !== undefined) return best
  // "warning" for "warn", "information" for "info": a whole keyword at the start of the word.
  const lower = word.toLowerCase()
  return lower.length < 3 ? undefined : candidates.find((candidate) => candidate.length >= 3 && (lower.startsWith(candidate.toLowerCase()) || candidate.toLowerCase().startsWith(lower)))
}
