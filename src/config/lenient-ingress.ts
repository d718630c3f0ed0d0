/**
 * @module Reads what is valid of an Ingress spec that failed validation, so route checks (paths,
 * duplicates, unknown pools) still run on the rest and every problem is reported in one go.
 */
import { IngressBackend, IngressPath, IngressSpec, type IngressSpecConfig } from './ingress-schema.js'

type Rule = NonNullable<IngressSpecConfig['rules']>[number]

/**
 * The spec itself when valid; otherwise its valid parts. Invalid rules and paths are left as holes
 * (a sparse array), so the valid ones keep their index and route issues name the right key path;
 * their own problems are already reported by the schema. Undefined when nothing can be read.
 */
export function lenientIngressSpec(raw: unknown): IngressSpecConfig | undefined {
  const spec = IngressSpec.safeParse(raw)
  if (spec.success) return spec.data
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return undefined
  const { defaultBackend, rules } = raw as { defaultBackend?: unknown; rules?: unknown }
  const backend = IngressBackend.safeParse(defaultBackend)
  return {
    ...(backend.success ? { defaultBackend: backend.data } : {}),
    ...(Array.isArray(rules) ? { rules: sparse(rules, lenientRule) } : {}),
  }
}

function lenientRule(raw: unknown): Rule | undefined {
  if (raw === null || typeof raw !== 'object') return undefined
  const { host, http } = raw as { host?: unknown; http?: { paths?: unknown } | null }
  // An invalid host is reported by the schema; its paths are still checked against each other.
  const paths = Array.isArray(http?.paths) ? sparse(http.paths, (path) => {
    const parsed = IngressPath.safeParse(path)
    return parsed.success ? parsed.data : undefined
  }) : []
  return { ...(typeof host === 'string' ? { host } : {}), http: { paths } }
}

/** Maps items, leaving a hole where `read` gives undefined (forEach skips holes; entries() yields them as undefined). */
function sparse<T>(items: readonly unknown[], read: (item: unknown) => T | undefined): T[] {
  const out = new Array<T>(items.length)
  items.forEach((item, index) => {
    const value = read(item)
    if (value !== undefined) out[index] = value
  })
  return out
}
