/**
 * @module Loads a config: read → parse YAML/JSON → `${VAR}` substitution → schema → routes → cross-checks.
 *
 * Every problem is collected and thrown at once as a ConfigError whose lines read
 * `FILE: key.path: what is wrong, what is expected`; nothing is half-applied.
 */
import { dirname } from 'node:path'
import { ConfigError, type ConfigIssue } from '../errors/config-error.js'
import { compileHttpRoutes } from '../routing/httproute-compile.js'
import { compileRouteTable, type RouteTable } from '../routing/route-table.js'
import { crossCheck, type PoolSummary } from './cross-checks.js'
import { cookieCollisionWarnings } from './affinity-checks.js'
import { annotatedAffinities } from './ingress-annotations.js'
import { inheritedSessionAnnotations } from './ingress-canary.js'
import { HTTPRouteManifest, isHttpRouteObject } from './httproute-schema.js'
import { lenientIngressSpec } from './lenient-ingress.js'
import { substituteEnv, type EmptiedValue, type EnvProblem, type SubstitutionReport } from './env-substitution.js'
import { collectRouteSources, type HttpRouteSource, type RouteEntry, type RouteSource } from './route-sources.js'
import { ConfigSchema, type Config } from './schema.js'
import { toConfigIssues } from './schema-issues.js'
import { checkTlsFiles } from './tls-checks.js'
import { formatKeyPath, isEmptyDocument, parseYamlDocuments, readText, type YamlDocument } from './yaml-source.js'

/** A validated, frozen config with its compiled route table. */
export interface LoadedConfig {
  /** Label used in messages: the file path as given, or "command line". */
  readonly file: string
  readonly config: Config
  readonly routeSources: readonly RouteSource[]
  /** HTTPRoutes, inline and from manifest files. */
  readonly httpRouteSources: readonly HttpRouteSource[]
  readonly routes: RouteTable
  /** Things that are accepted but worth telling the operator (logged at start). */
  readonly warnings: readonly string[]
}

/**
 * Loads and validates a config file; throws ConfigError listing every problem. `text`, when given, is
 * used instead of reading the file (worker processes validate exactly the text their supervisor did).
 */
export function loadConfigFile(file: string, env: NodeJS.ProcessEnv = process.env, text?: string): LoadedConfig {
  const read = text === undefined ? readText(file, file) : { text }
  if ('issue' in read) throw new ConfigError('CONFIG_UNREADABLE', [read.issue])
  if (read.text.trim() === '') {
    throw emptyFile(file)
  }
  const parsed = parseYamlDocuments(read.text, file)
  if ('issues' in parsed) throw new ConfigError('CONFIG_SYNTAX', parsed.issues)
  if (parsed.documents.length === 0) {
    throw emptyFile(file)
  }
  if (parsed.documents.length !== 1) {
    throw new ConfigError('CONFIG_SYNTAX', [{ file, path: '', message: `found ${parsed.documents.length} YAML documents — expected exactly one` }])
  }
  const doc = parsed.documents[0] as YamlDocument
  if (isEmptyDocument(doc) || typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    throw new ConfigError('CONFIG_INVALID', [{ file, path: '', message: 'expected a mapping at the top level with at least "pools"' }])
  }
  return validateConfig(doc.value, { file, doc, baseDir: dirname(file), env })
}

/** Options for validating an already-parsed config value. */
export interface ValidateOptions {
  readonly file: string
  readonly doc?: YamlDocument
  /** Directory that relative manifest paths in `routes` are resolved against. */
  readonly baseDir: string
  readonly env?: NodeJS.ProcessEnv
}

/** Validates a parsed config value (from a file or built by quick mode). */
export function validateConfig(value: unknown, options: ValidateOptions): LoadedConfig {
  const { file, doc, baseDir } = options
  const report: SubstitutionReport = { problems: [], emptied: [] }
  const substituted = substituteEnv(value, options.env ?? process.env, report)
  const issues: ConfigIssue[] = report.problems.map((problem) => envIssue(file, doc, problem))
  const result = ConfigSchema.safeParse(substituted, { reportInput: true })
  if (!result.success) {
    // A value that is wrong only because its variable is unset was already reported as such.
    const unset = new Set(issues.map((issue) => issue.path))
    const routeIssues = inlineHttpRouteIssues(substituted, file, doc)
    const schemaIssues = toConfigIssues(result.error, ConfigSchema, { file, doc })
      .filter((issue) => !unset.has(issue.path) && !routeIssues.paths.some((path) => isAtOrBelow(issue.path, path)))
      .concat(routeIssues.issues)
    issues.push(...schemaIssues.map((issue) => explainEmptied(issue, report.emptied)))
  }
  // Cross-checks run even when the schema failed (on what can be read leniently), so a user
  // sees every problem in one go instead of fixing them one run at a time.
  const summary = result.success ? summarize(result.data) : summarizeLeniently(substituted)
  const onlyPool = summary.pools.length === 1 ? (summary.pools[0] as PoolSummary).name : undefined
  const routeEntries = summary.routes ?? (onlyPool === undefined ? [] : [{ defaultBackend: { service: { name: onlyPool } } }])
  const httpRouteSources: HttpRouteSource[] = []
  const sources = collectRouteSources(routeEntries, file, doc, issues, baseDir, httpRouteSources)
  crossCheck({ pools: summary.pools, routesGiven: summary.routes !== undefined }, sources, { file, doc }, issues, httpRouteSources)
  const warnings = collectWarnings(sources)
  const routes = compileRouteTable(sources, issues, compileHttpRoutes(httpRouteSources, issues, warnings), warnings)
  if (result.success) checkTlsFiles(result.data, { file, doc, baseDir }, issues, warnings)
  if (issues.length > 0 || !result.success) throw new ConfigError(report.problems.length > 0 ? 'CONFIG_ENV' : 'CONFIG_INVALID', sortByLine(issues))
  const config = withAnnotatedAffinity(result.data, sources, explicitAffinityPools(substituted), warnings)
  warnings.push(...cookieCollisionWarnings(config, routes))
  return deepFreeze({ file, config, routeSources: sources, httpRouteSources, routes, warnings })
}

type RouteEntries = readonly RouteEntry[]

/**
 * Issues of inline `kind: HTTPRoute` entries of `routes`, validated as HTTPRoutes: zod's union would
 * otherwise report some of them against the Ingress spec branch ("unknown key kind"). `paths` are the
 * entries' key paths, whose union issues these replace.
 */
function inlineHttpRouteIssues(raw: unknown, file: string, doc: YamlDocument | undefined): { issues: ConfigIssue[]; paths: string[] } {
  const routes = (raw as { routes?: unknown }).routes
  const list = Array.isArray(routes) ? routes : [routes]
  const out: { issues: ConfigIssue[]; paths: string[] } = { issues: [], paths: [] }
  list.forEach((entry, index) => {
    if (!isHttpRouteObject(entry)) return
    const result = HTTPRouteManifest.safeParse(entry, { reportInput: true })
    if (result.success) return
    const base = Array.isArray(routes) ? ['routes', index] : ['routes']
    out.paths.push(formatKeyPath(base))
    out.issues.push(...toConfigIssues(result.error, HTTPRouteManifest, { file, doc, base }))
  })
  return out
}

function isAtOrBelow(path: string, base: string): boolean {
  return path === base || path.startsWith(`${base}.`) || path.startsWith(`${base}[`)
}

function summarize(config: Config): { pools: PoolSummary[]; routes: RouteEntries | undefined } {
  return { pools: config.pools.map((pool) => ({ name: pool.name, endpointUrls: pool.endpoints.map((endpoint) => endpoint.url), hasDiscovery: pool.discovery !== undefined })), routes: config.routes }
}

/** Reads pool names, endpoint URLs and the route entries that are individually valid from raw input. */
function summarizeLeniently(raw: unknown): { pools: PoolSummary[]; routes: RouteEntries | undefined } {
  const value = raw as { pools?: unknown; routes?: unknown }
  const pools: PoolSummary[] = []
  for (const pool of Array.isArray(value.pools) ? value.pools : []) {
    const { name, endpoints, discovery } = (pool ?? {}) as { name?: unknown; endpoints?: unknown; discovery?: unknown }
    if (typeof name !== 'string') continue
    const urls = (Array.isArray(endpoints) ? endpoints : []).map((endpoint: unknown) => (typeof endpoint === 'string' ? endpoint : (endpoint as { url?: unknown } | null)?.url))
    pools.push({ name, endpointUrls: urls.filter((url): url is string => typeof url === 'string'), hasDiscovery: discovery !== undefined })
  }
  if (value.routes === undefined) return { pools, routes: undefined }
  const entries = Array.isArray(value.routes) ? value.routes : [value.routes]
  const routes: RouteEntry[] = []
  for (const entry of entries) {
    if (typeof entry === 'string') routes.push(entry)
    else if (isHttpRouteObject(entry)) {
      const route = HTTPRouteManifest.safeParse(entry)
      if (route.success) routes.push(route.data)
    } else {
      const spec = lenientIngressSpec(entry)
      if (spec !== undefined) routes.push(spec)
    }
  }
  return { pools, routes }
}

/** Names of the pools whose config sets `affinity` or `sessionPersistence` itself (it wins over Ingress annotations). */
function explicitAffinityPools(raw: unknown): Set<string> {
  const pools = (raw as { pools?: unknown }).pools
  const names = new Set<string>()
  for (const pool of Array.isArray(pools) ? pools : []) {
    const { name, affinity, sessionPersistence } = (pool ?? {}) as { name?: unknown; affinity?: unknown; sessionPersistence?: unknown }
    if (typeof name === 'string' && (affinity !== undefined || sessionPersistence !== undefined)) names.add(name)
  }
  return names
}

/** Gives pools without their own affinity the one their Ingress's ingress-nginx annotations ask for. */
function withAnnotatedAffinity(config: Config, sources: readonly RouteSource[], explicit: ReadonlySet<string>, warnings: string[]): Config {
  const { affinities, warnings: annotationWarnings } = annotatedAffinities(sources, explicit, inheritedSessionAnnotations(sources))
  warnings.push(...annotationWarnings)
  if (affinities.size === 0) return config
  return { ...config, pools: config.pools.map((pool) => ({ ...pool, affinity: affinities.get(pool.name) ?? pool.affinity })) }
}

function emptyFile(file: string): ConfigError {
  return new ConfigError('CONFIG_INVALID', [{ file, path: '', message: 'file is empty — expected a YAML or JSON mapping with at least "pools"' }])
}

function envIssue(file: string, doc: YamlDocument | undefined, problem: EnvProblem): ConfigIssue {
  const line = doc?.lineOf(problem.path)
  const path = formatKeyPath(problem.path)
  return line === undefined ? { file, path, message: problem.message } : { file, path, message: problem.message, line }
}

/** A required key that is missing because its `${VAR:-}` came out empty: say so, or the user looks for a typo. */
function explainEmptied(issue: ConfigIssue, emptied: readonly EmptiedValue[]): ConfigIssue {
  const cause = emptied.find((value) => formatKeyPath(value.path) === issue.path)
  return cause === undefined ? issue : { ...issue, message: `${issue.message} (it was ${JSON.stringify(cause.written)}, which is empty)` }
}

function sortByLine(issues: ConfigIssue[]): ConfigIssue[] {
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => (a.issue.file === b.issue.file ? (a.issue.line ?? Infinity) - (b.issue.line ?? Infinity) || a.index - b.index : 0))
    .map((entry) => entry.issue)
}

function collectWarnings(sources: readonly RouteSource[]): string[] {
  const warnings: string[] = []
  for (const source of sources) {
    const label = source.name === undefined ? source.file : `${source.file} (Ingress ${source.name})`
    if (source.spec.tls !== undefined) warnings.push(`${label}: spec.tls is ignored — configure TLS certificates on Latch's listeners`)
  }
  return warnings
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !(value instanceof RegExp) && !(value instanceof Map)) {
    Object.freeze(value)
    for (const item of Object.values(value)) deepFreeze(item)
  }
  return value
}
