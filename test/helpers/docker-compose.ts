/**
 * @module Reads docker-compose.yml and resolves `${VAR:-default}` the way docker compose does (no variables set).
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse } from 'yaml'

export const ROOT = resolve(import.meta.dirname, '../..')

/** The parts of a compose service the tests read. */
export interface ComposeService {
  readonly image?: string
  readonly build?: string
  readonly command?: string[]
  readonly environment?: Record<string, string>
  readonly volumes?: string[]
  readonly ports?: string[]
  readonly depends_on?: Record<string, { condition: string }>
  readonly healthcheck?: { test: string[] }
  readonly stop_grace_period?: string
  readonly read_only?: boolean
  readonly tmpfs?: string[]
}

/** docker-compose.yml as parsed YAML (not interpolated). */
export function readCompose(): { name: string; services: Record<string, ComposeService> } {
  return parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8')) as { name: string; services: Record<string, ComposeService> }
}

/** A service's environment after compose interpolation with `env` (unset variables take their `:-` default, else ''). */
export function serviceEnv(service: ComposeService, env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const resolved: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(service.environment ?? {})) {
    resolved[name] = String(value).replace(/\$\{(\w+)(?::-([^}]*))?\}/g, (_, variable: string, fallback: string | undefined) => env[variable] || (fallback ?? ''))
  }
  return resolved
}

/** Seconds of a compose duration such as `10s`, `1m30s` or `500ms`. */
export function composeSeconds(text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)]
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) throw new Error(`not a compose duration: ${text}`)
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 }
  return parts.reduce((total, part) => total + Number(part[1]) * (unit[part[2] as string] as number), 0)
}
