/**
 * @module Collects the Ingress specs a config routes with: inline specs and manifest files.
 */
import { dirname, isAbsolute, resolve } from 'node:path'
import type { ConfigIssue } from '../errors/config-error.js'
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
}

/** Reads `routes` entries: inline specs stay as they are; strings are manifest files to load. */
export function collectRouteSources(
  routes: readonly (string | IngressSpecConfig)[],
  configFile: string,
  doc: YamlDocument | undefined,
  issues: ConfigIssue[],
  baseDir: string = configFile === '' ? process.cwd() : dirname(configFile),
): RouteSource[] {
  const sources: RouteSource[] = []
  routes.forEach((entry, index) => {
    const basePath: KeyPath = routes.length === 1 && !isListInDoc(doc) ? ['routes'] : ['routes', index]
    if (typeof entry === 'string') {
      const file = isAbsolute(entry) ? entry : resolve(baseDir, entry)
      const read = readText(file, entry)
      if ('issue' in read) issues.push(unreadableManifest(entry, file, read.why, { file: configFile, doc, path: basePath }))
      else sources.push(...parseManifestFile(read.text, file, entry, issues))
    } else {
      sources.push({ file: configFile, path: undefined, basePath, displayPrefix: '', spec: entry, name: undefined, annotations: {}, doc })
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
  const message = `${problem} — expected a file of Kubernetes Ingress manifests${relative}`
  const line = at.doc?.lineOf(at.path)
  const path = formatKeyPath(at.path)
  return line === undefined ? { file: at.file, path, message } : { file: at.file, path, message, line }
}

/** Reads every `kind: Ingress` document of a manifest file's text; other kinds are skipped. */
function parseManifestFile(text: string, file: string, label: string, issues: ConfigIssue[]): RouteSource[] {
  const parsed = parseYamlDocuments(text, label)
  if ('issues' in parsed) {
    issues.push(...parsed.issues)
    return []
  }
  const sources: RouteSource[] = []
  parsed.documents.forEach((doc, index) => {
    if (isEmptyDocument(doc)) return
    for (const [item, itemPath] of ingressItems(doc.value)) {
      const result = IngressManifest.safeParse(item, { reportInput: true })
      const displayPrefix = parsed.documents.length === 1 ? '' : `documents[${index}].`
      if (!result.success) {
        issues.push(...toConfigIssues(result.error, IngressManifest, { file: label, doc, base: itemPath, displayPrefix }))
        // Its valid paths are still checked, so every problem of the file shows at once.
        const spec = lenientIngressSpec((item as { spec?: unknown }).spec)
        if (spec !== undefined) sources.push({ file: label, path: file, basePath: [...itemPath, 'spec'], displayPrefix, spec, name: undefined, annotations: {}, doc })
        continue
      }
      const metadata = result.data.metadata
      sources.push({ file: label, path: file, basePath: [...itemPath, 'spec'], displayPrefix, spec: result.data.spec, name: metadata?.name, annotations: metadata?.annotations ?? {}, doc })
    }
  })
  if (sources.length === 0 && !issues.some((issue) => issue.file === label)) {
    issues.push({ file: label, path: '', message: 'no Ingress found — expected one or more networking.k8s.io/v1 Ingress manifests' })
  }
  return sources
}

/** Yields Ingress objects of a document: the document itself, or the items of a `kind: List`. */
function* ingressItems(value: unknown): Generator<[unknown, KeyPath]> {
  const object = value as { kind?: unknown; items?: unknown } | null
  if (object?.kind === 'Ingress') yield [value, []]
  else if (object?.kind === 'List' && Array.isArray(object.items)) {
    for (const [index, item] of object.items.entries()) {
      if ((item as { kind?: unknown } | null)?.kind === 'Ingress') yield [item, ['items', index]]
    }
  }
}
