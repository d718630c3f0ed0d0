/**
 * @module Checks that span several keys: unique names, references between routes and pools.
 */
import type { ConfigIssue } from '../errors/config-error.js'
import { httpRoutePoolReferences, issueIn } from '../routing/httproute-compile.js'
import { issueAt, poolReferences } from '../routing/route-table.js'
import type { HttpRouteSource, RouteSource } from './route-sources.js'
import { endpointIdOf } from '../upstream/endpoint-id.js'
import { formatKeyPath, type YamlDocument } from './yaml-source.js'

/** Where the main config came from, for locating issues in it. */
export interface MainLocation {
  readonly file: string
  readonly doc: YamlDocument | undefined
}

/** What cross-checks need to know of the pools; built from the parsed config or, leniently, from raw input. */
export interface PoolSummary {
  readonly name: string
  readonly endpointUrls: readonly string[]
  readonly hasDiscovery: boolean
}

/** The parts of a config the cross-checks look at. */
export interface CrossCheckInput {
  readonly pools: readonly PoolSummary[]
  readonly routesGiven: boolean
}

/** Adds an issue for every duplicate pool, duplicate endpoint, empty pool and unknown pool reference. */
export function crossCheck(config: CrossCheckInput, sources: readonly RouteSource[], main: MainLocation, issues: ConfigIssue[], httpRoutes: readonly HttpRouteSource[] = []): void {
  const at = (path: (string | number)[], message: string): ConfigIssue => {
    const line = main.doc?.lineOf(path)
    const text = formatKeyPath(path)
    return line === undefined ? { file: main.file, path: text, message } : { file: main.file, path: text, message, line }
  }
  const firstIndex = new Map<string, number>()
  config.pools.forEach((pool, index) => {
    const earlier = firstIndex.get(pool.name)
    if (earlier !== undefined) issues.push(at(['pools', index, 'name'], `duplicate pool name ${JSON.stringify(pool.name)} — already used by pools[${earlier}]; pool names must be unique`))
    else firstIndex.set(pool.name, index)
    checkEndpoints(pool, index, at, issues)
  })
  if (!config.routesGiven && config.pools.length > 1) {
    issues.push({ file: main.file, path: 'routes', message: `missing — with ${config.pools.length} pools, routes must say which requests go to which pool (an Ingress spec or a manifest file)` })
  }
  const names = [...firstIndex.keys()]
  for (const reference of poolReferences(sources)) {
    if (!firstIndex.has(reference.pool)) {
      issues.push(issueAt(reference.at, unknownPool(reference.pool, main.file, names)))
    }
  }
  for (const reference of httpRoutePoolReferences(httpRoutes)) {
    if (!firstIndex.has(reference.pool)) issues.push(issueIn(reference.source, reference.path, unknownPool(reference.pool, main.file, names)))
  }
}

function unknownPool(pool: string, file: string, names: readonly string[]): string {
  return `unknown pool ${JSON.stringify(pool)} — expected one of the pools defined in ${file}: ${names.join(', ')}`
}

function checkEndpoints(pool: PoolSummary, poolIndex: number, at: (path: (string | number)[], message: string) => ConfigIssue, issues: ConfigIssue[]): void {
  if (pool.endpointUrls.length === 0) {
    if (!pool.hasDiscovery) issues.push(at(['pools', poolIndex, 'endpoints'], `pool ${JSON.stringify(pool.name)} has no endpoints — expected at least one endpoint URL such as http://10.0.0.1:8080, or a discovery section`))
    return
  }
  const seen = new Map<string, number>()
  pool.endpointUrls.forEach((url, index) => {
    if (!URL.canParse(url)) return
    const id = endpointIdOf(new URL(url))
    const earlier = seen.get(id)
    if (earlier !== undefined) issues.push(at(['pools', poolIndex, 'endpoints', index], `duplicate endpoint ${id} — already listed as endpoints[${earlier}]`))
    else seen.set(id, index)
  })
}
