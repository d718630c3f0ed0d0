/**
 * @module Collects the route sources a config routes with: inline Ingress specs, inline HTTPRoute
 * manifests (`kind: HTTPRoute`) and manifest files (every `kind: Ingress` and `kind: HTTPRoute` document).
 */
import { dirname, isAbsolute, resolve } from 'node:path'
import type { ConfigIssue } from '../errors/config-error.js'
import { HTTPRouteManifest, isHttpRouteObject, type HTTPRouteConfig } from './httproute-schema.js'
import { IngressManifest, type IngressSpecConfig } from './ingress-schema.js'
import { lenientIngressSpec } from './lenient-ingress.js'
import { toConfigIssues } from './schema-issues.js'
import { formatKeyPath, isEmptyDocument, parseYamlDocuments, readText, type KeyPath, type YamlDocument } from './yaml-source.js'

/** One Ingress spec and where it came from, so route problems can name the right file and key. */
export interface RouteSource {
  /** File label used in messages. */
  readonly file: string
  /** Absolute path of a manifest file (reload watches it); undefined for inline specs. */
  readonly path: string | undefined
  /** Key path of the spec inside that file, e.g. `routes` or `documents[1].spec`. */
  readonly basePath: KeyPath
  /** Prefix shown before key paths, e.g. `documents[1].` for the second document of a manifest file. */
  readonly displayPrefix: string
  readonly spec: IngressSpecConfig
  /** `metadata.name` of a manifest, when there is one. */
  readonly name: string | undefined
  /** `metadata.annotations` of a manifest (ingress-nginx compatibility). */
  readonly annotations: Readonly<Record<string, string>>
  readonly doc: YamlDocument | undefined
  /** Position among all route sources of the config (Ingress and HTTPRoute), for the last tie-break. */
  readonly order?: number
}

/** One HTTPRoute and where it came from. */
export interface HttpRouteSource {
  /** File label used in messages. */
  readonly file: string
  /** Absolute path of a manifest file (reload watches it); undefined for inline routes. */
  readonly path: string | undefined
  /** Key path of the manifest (not its spec) inside that file, e.g. `routes[1]` or `[]` for a whole document. */
  readonly basePath: KeyPath
  readonly displayPrefix: string
  readonly route: HTTPRouteConfig
  readonly doc: YamlDocument | undefined
  /** Position among all route sources of the config (Ingress and HTTPRoute), for the last tie-break. */
  readonly order: number
}

/** An entry of `routes`: a manifest file, an inline Ingress spec, or an inline HTTPRoute manifest. */
export type RouteEntry = string | IngressSpecConfig | HTTPRouteConfig

/**
 * Reads `routes` entries: inline specs stay as they are; strings are manifest files to load. HTTPRoutes
 * (inline or from files) are added to `httpRoutes`; the Ingress sources are returned.
 */
export function collectRouteSources(
  routes: readonly RouteEntry[],
  configFile: string,
  doc: YamlDocument | undefined,
  issues: ConfigIssue[],
  baseDir: string = configFile === '' ? process.cwd() : dirname(configFile),
  httpRoutes: HttpRouteSource[] = [],
): RouteSource[] {
  const sources: RouteSource[] = []
  const counter = { next: 0 }
  routes.forEach((entry, index) => {
    const basePath: KeyPath = routes.length === 1 && !isListInDoc(doc) ? ['routes'] : ['routes', index]
    if (typeof entry === 'string') {
      const file = isAbsolute(entry) ? entry : resolve(baseDir, entry)
      const read = readText(file, entry)
      if ('issue' in read) issues.push(unreadableManifest(entry, file, read.why, { file: configFile, doc, path: basePath }))
      else sources.push(...parseManifestFile(read.text, file, entry, issues, httpRoutes, counter))
    } else if (isHttpRouteObject(entry)) {
      httpRoutes.push({ file: configFile, path: undefined, basePath, displayPrefix: '', route: entry as HTTPRouteConfig, doc, order: counter.next++ })
    } else {
      sources.push({ file: configFile, path: undefined, basePath, displayPrefix: '', spec: entry as IngressSpecConfig, name: undefined, annotations: {}, doc, order: counter.next++ })
    }
  })
  return sources
}

function isListInDoc(doc: YamlDocument | undefined): boolean {
  const value = doc?.value as { routes?: unknown } | undefined
  return Array.isArray(value?.routes)
}

/**
 * A manifest file that cannot be read is a mistake in the config that names it: the issue is on its
 * `routes` key, in the config file, with the path resolved (as TLS file errors are).
 */
function unreadableManifest(entry: string, file: string, why: string, at: { file: string; doc: YamlDocument | undefined; path: KeyPath }): ConfigIssue {
  const problem = why === 'file not found' ? `${file} not found` : `${file}: ${why}`
  const relative = isAbsolute(entry) ? '' : " (a relative path is read from the config file's directory)"
  const message = `${problem} — expected a file of Kubernetes Ingress or HTTPRoute manifests${relative}`
  const line = at.doc?.lineOf(at.path)
  const path = formatKeyPath(at.path)
  return line === undefined ? { file: at.file, path, message } : { file: at.file, path, message, line }
}

/** Reads every `kind: Ingress` and `kind: HTTPRoute` document of a manifest file's text; other kinds are skipped. */
function parseManifestFile(text: string, file: string, label: string, issues: ConfigIssue[], httpRoutes: HttpRouteSource[], counter: { next: number }): RouteSource[] {
  const parsed = parseYamlDocuments(text, label)
  if ('issues' in parsed) {
    issues.push(...parsed.issues)
    return []
  }
  const sources: RouteSource[] = []
  const routesBefore = httpRoutes.length
  parsed.documents.forEach((doc, index) => {
    if (isEmptyDocument(doc)) return
    const displayPrefix = parsed.documents.length === 1 ? '' : `documents[${index}].`
    for (const [item, itemPath] of routeItems(doc.value, 'HTTPRoute')) {
      const result = HTTPRouteManifest.safeParse(item, { reportInput: true })
      if (!result.success) issues.push(...toConfigIssues(result.error, HTTPRouteManifest, { file: label, doc, base: itemPath, displayPrefix }))
      else httpRoutes.push({ file: label, path: file, basePath: itemPath, displayPrefix, route: result.data, doc, order: counter.next++ })
    }
    for (const [item, itemPath] of routeItems(doc.value, 'Ingress')) {
      const order = counter.next++
      const result = IngressManifest.safeParse(item, { reportInput: true })
      if (!result.success) {
        issues.push(...toConfigIssues(result.error, IngressManifest, { file: label, doc, base: itemPath, displayPrefix }))
        // Its valid paths are still checked, so every problem of the file shows at once.
        const spec = lenientIngressSpec((item as { spec?: unknown }).spec)
        if (spec !== undefined) sources.push({ file: label, path: file, basePath: [...itemPath, 'spec'], displayPrefix, spec, name: undefined, annotations: {}, doc, order })
        continue
      }
      const metadata = result.data.metadata
      sources.push({ file: label, path: file, basePath: [...itemPath, 'spec'], displayPrefix, spec: result.data.spec, name: metadata?.name, annotations: metadata?.annotations ?? {}, doc, order })
    }
  })
  if (sources.length === 0 && httpRoutes.length === routesBefore && !issues.some((issue) => issue.file === label)) {
    issues.push({ file: label, path: '', message: 'no Ingress or HTTPRoute found — expected one or more networking.k8s.io/v1 Ingress or gateway.networking.k8s.io/v1 HTTPRoute manifests' })
  }
  return sources
}

/** Yields the objects of `kind` in a document: the document itself, or the items of a `kind: List`. */
function* routeItems(value: unknown, kind: 'Ingress' | 'HTTPRoute'): Generator<[unknown, KeyPath]> {
  const object = value as { kind?: unknown; items?: unknown } | null
  if (object?.kind === kind) yield [value, []]
  else if (object?.kind === 'List' && Array.isArray(object.items)) {
    for (const [index, item] of object.items.entries()) {
      if ((item as { kind?: unknown } | null)?.kind === kind) yield [item, ['items', index]]
    }
  }
}
