/**
 * @module Reads the manifests in config/kubernetes/ and validates each object against the Kubernetes OpenAPI schema (kubernetes-models).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseAllDocuments } from 'yaml'
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap'
import { Namespace } from 'kubernetes-models/v1/Namespace'
import { Secret } from 'kubernetes-models/v1/Secret'
import { Service } from 'kubernetes-models/v1/Service'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec'

export const MANIFEST_DIR = resolve(import.meta.dirname, '../../config/kubernetes')

/** Each kind the manifests may use, with its schema-validating model (apiVersion/kind → model). */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
}

/** One object of a manifest file. */
export interface Manifest {
  readonly file: string
  readonly apiVersion: string
  readonly kind: string
  readonly name: string
  readonly namespace: string | undefined
  readonly object: Record<string, unknown>
}

/** Every `.yaml` file of config/kubernetes/ except kustomization.yaml. */
export function manifestFiles(): string[] {
  return readdirSync(MANIFEST_DIR)
    .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml')
    .sort()
}

/** Every object of every manifest file, in file order; a YAML error throws. */
export function readManifests(): Manifest[] {
  const manifests: Manifest[] = []
  for (const file of manifestFiles()) {
    for (const doc of parseAllDocuments(readFileSync(resolve(MANIFEST_DIR, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((error) => error.message).join('; ')}`)
      const object = doc.toJS() as Record<string, unknown> | null
      if (object === null) continue
      const metadata = (object.metadata ?? {}) as { name?: string; namespace?: string }
      manifests.push({ file, apiVersion: String(object.apiVersion), kind: String(object.kind), name: metadata.name ?? '', namespace: metadata.namespace, object })
    }
  }
  return manifests
}

/** Validates an object against its kind's OpenAPI schema; throws with the schema errors, or for a kind it does not know. */
export function validateManifest(object: Record<string, unknown>): void {
  const Model = MODELS[`${String(object.apiVersion)}/${String(object.kind)}`]
  if (Model === undefined) throw new Error(`no schema model for ${String(object.apiVersion)} ${String(object.kind)} — add it to MODELS`)
  new Model(object as never).validate()
}

/** The one object of `kind` named `name`; throws when it is missing. */
export function find(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((manifest) => manifest.kind === kind && manifest.name === name)
  if (found === undefined) throw new Error(`no ${kind} named ${name} in config/kubernetes/`)
  return found
}

/** A Deployment's Pod spec and its one container named `container`. */
export function podOf(manifest: Manifest, container: string): { deployment: IDeployment; pod: IPodSpec; container: IContainer } {
  const deployment = manifest.object as unknown as IDeployment
  const pod = deployment.spec?.template.spec as IPodSpec
  const found = pod.containers.find((candidate) => candidate.name === container)
  if (found === undefined) throw new Error(`Deployment ${manifest.name} has no container ${container}`)
  return { deployment, pod, container: found }
}

/**
 * Seconds the container's preStop hook waits: an exec of `sleep N`, or the built-in `sleep` action.
 * Any other hook throws, so that a new kind of hook gets a consistency rule instead of counting as 0.
 */
export function preStopSeconds(container: IContainer): number {
  const preStop = container.lifecycle?.preStop
  if (preStop === undefined) return 0
  if (preStop.sleep !== undefined) return preStop.sleep.seconds
  const command = preStop.exec?.command ?? []
  if (command.length === 2 && command[0] === 'sleep' && /^\d+$/.test(command[1] as string)) return Number(command[1])
  throw new Error(`cannot tell how long the preStop hook ${JSON.stringify(preStop)} waits`)
}
