import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, posix, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import type { IContainer } from 'kubernetes-models/v1/Container'
import type { IService } from 'kubernetes-models/v1/Service'
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget'
import { loadConfigFile, type LoadedConfig } from '../../../src/config/load.js'
import { parseListenAddress } from '../../../src/net/address.js'
import { find, manifestFiles, MANIFEST_DIR, podOf, preStopSeconds, readManifests, validateManifest } from '../../helpers/kubernetes-manifests.js'

const ROOT = resolve(import.meta.dirname, '../../..')
const VERSION = (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string }).version
const NAMESPACE = 'latch'
/** Time Latch needs after drainTimeout (closing sockets, pools and Redis) before the kubelet's SIGKILL. */
const MIN_MARGIN_SECONDS = 2

const manifests = readManifests()
const tempDir = mkdtempSync(join(tmpdir(), 'latch-k8s-'))
afterAll(() => rmSync(tempDir, { recursive: true, force: true }))

/** The container's environment as the kubelet would set it (secrets from latch-secret.example.yaml). */
function containerEnv(container: IContainer): NodeJS.ProcessEnv {
  const secret = find(manifests, 'Secret', 'latch-secrets').object as { stringData: Record<string, string> }
  const env: NodeJS.ProcessEnv = {}
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef
    if (ref !== undefined) {
      expect(ref.name, `${variable.name} comes from the example Secret`).toBe('latch-secrets')
      env[variable.name] = secret.stringData[ref.key]
    } else env[variable.name] = variable.value ?? 'from-the-downward-api'
  }
  return env
}

/** The Latch config of latch-config.yaml, loaded by Latch's own loader with the Deployment's environment only. */
function loadEmbeddedConfig(): LoadedConfig {
  const configMap = find(manifests, 'ConfigMap', 'latch-config').object as { data: Record<string, string> }
  const file = join(tempDir, 'latch.yaml')
  writeFileSync(file, configMap.data['latch.yaml'] as string)
  return loadConfigFile(file, containerEnv(podOf(find(manifests, 'Deployment', 'latch'), 'latch').container))
}

function portOf(address: string): number {
  const parsed = parseListenAddress(address)
  if (typeof parsed === 'string') throw new Error(parsed)
  return parsed.port
}

function containerPort(container: IContainer, name: string): number {
  const port = container.ports?.find((candidate) => candidate.name === name)
  if (port === undefined) throw new Error(`container ${container.name} has no port named ${name}`)
  return port.containerPort
}

function selects(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
  return selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([key, value]) => labels?.[key] === value)
}

describe('config/kubernetes manifests', () => {
  it('are each valid against the Kubernetes OpenAPI schema', () => {
    expect(manifests.map((manifest) => `${manifest.kind}/${manifest.name}`).sort()).toEqual(
      ['ConfigMap/latch-config', 'Deployment/latch', 'Deployment/redis', 'Deployment/session-app', 'Namespace/latch', 'PodDisruptionBudget/latch', 'Secret/latch-secrets', 'Service/latch', 'Service/redis', 'Service/session-app'].sort(),
    )
    for (const manifest of manifests) expect(() => validateManifest(manifest.object), `${manifest.file}: ${manifest.kind} ${manifest.name}`).not.toThrow()
  })

  it('are checked for real: the validator rejects a broken Deployment and an unknown kind', () => {
    const deployment = structuredClone(find(manifests, 'Deployment', 'latch').object) as { spec: { replicas: unknown; template: { spec: { containers: Record<string, unknown>[] } } } }
    deployment.spec.replicas = 'two'
    expect(() => validateManifest(deployment)).toThrow(/replicas must be integer/)
    const noName = structuredClone(find(manifests, 'Deployment', 'latch').object) as typeof deployment
    delete noName.spec.template.spec.containers[0]?.name
    expect(() => validateManifest(noName)).toThrow(/containers\/0 must have required property name/)
    const badPolicy = structuredClone(find(manifests, 'Deployment', 'latch').object) as typeof deployment
    ;(badPolicy.spec.template.spec.containers[0] as Record<string, unknown>).imagePullPolicy = 'Sometimes'
    expect(() => validateManifest(badPolicy)).toThrow(/imagePullPolicy/)
    expect(() => validateManifest({ apiVersion: 'v1', kind: 'Pod' })).toThrow(/no schema model/)
  })

  it('all live in the latch namespace, and kustomization.yaml lists every file but the example Secret', () => {
    expect(manifests.filter((manifest) => manifest.kind !== 'Namespace').map((manifest) => manifest.namespace)).toEqual(Array(manifests.length - 1).fill(NAMESPACE))
    expect(find(manifests, 'Namespace', NAMESPACE)).toBeDefined()
    const kustomization = parse(readFileSync(resolve(MANIFEST_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] }
    expect([...kustomization.resources].sort()).toEqual(manifestFiles().filter((file) => file !== 'latch-secret.example.yaml'))
  })

  it('embed a Latch config that passes Latch\'s loader with exactly the environment the Deployment sets', () => {
    const loaded = loadEmbeddedConfig()
    expect(loaded.config.pools.map((pool) => pool.name)).toEqual(['app'])
    expect(loaded.config.pools[0]?.affinity.mode).toBe('cookie')
    expect(loaded.config.sessionSecrets).toHaveLength(1)
  })

  it('give the Pod a termination grace period covering preStop + drainDelay + drainTimeout', () => {
    const { pod, container } = podOf(find(manifests, 'Deployment', 'latch'), 'latch')
    const { drainDelay, drainTimeout } = loadEmbeddedConfig().config.shutdown
    const needed = preStopSeconds(container) + (drainDelay + drainTimeout) / 1000
    expect(preStopSeconds(container)).toBeGreaterThan(0)
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(needed + MIN_MARGIN_SECONDS)
  })

  it('probe /readyz and /healthz on the config\'s admin port, and serve the config\'s traffic port', () => {
    const { config } = loadEmbeddedConfig()
    const { container } = podOf(find(manifests, 'Deployment', 'latch'), 'latch')
    expect(config.admin.listen).not.toBe(false)
    expect(containerPort(container, 'admin')).toBe(portOf(config.admin.listen as string))
    expect(config.listen.map((listener) => portOf(listener.address))).toEqual([containerPort(container, 'http')])
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'admin' })
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'admin' })
    expect(container.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'admin' })
  })

  it('run two Latch replicas behind a Service and a PodDisruptionBudget that select them', () => {
    const { deployment, container } = podOf(find(manifests, 'Deployment', 'latch'), 'latch')
    const labels = deployment.spec?.template.metadata?.labels
    expect(deployment.spec?.replicas).toBe(2)
    expect(selects(deployment.spec?.selector.matchLabels, labels)).toBe(true)
    const service = find(manifests, 'Service', 'latch').object as unknown as IService
    expect(selects(service.spec?.selector, labels)).toBe(true)
    expect(service.spec?.ports?.map((port) => port.targetPort)).toEqual(['http'])
    expect(containerPort(container, 'http')).toBe(8080)
    const pdb = find(manifests, 'PodDisruptionBudget', 'latch').object as unknown as IPodDisruptionBudget
    expect(selects(pdb.spec?.selector?.matchLabels, labels)).toBe(true)
    expect(pdb.spec?.maxUnavailable).toBe(1)
  })

  it('discover the app through a headless Service whose DNS name and port the config uses', () => {
    const pool = loadEmbeddedConfig().config.pools[0]
    const service = find(manifests, 'Service', 'session-app').object as unknown as IService
    const { deployment, container } = podOf(find(manifests, 'Deployment', 'session-app'), 'session-app')
    expect(service.spec?.clusterIP).toBe('None')
    expect(selects(service.spec?.selector, deployment.spec?.template.metadata?.labels)).toBe(true)
    expect(pool?.discovery?.dns).toBe(`session-app.${NAMESPACE}.svc.cluster.local`)
    expect(service.spec?.ports?.map((port) => port.port)).toEqual([pool?.discovery?.port])
    expect(containerPort(container, 'http')).toBe(pool?.discovery?.port)
    expect(pool?.healthCheck?.path).toBe('/healthz')
    expect(container.readinessProbe?.httpGet?.path).toBe('/healthz')
  })

  it('point the Redis store at the Redis Service', () => {
    // `store` comes with the Redis store (issue 5); read it untyped so this file compiles without it.
    const { store } = loadEmbeddedConfig().config as unknown as { store: { type: string; url: string } }
    const url = new URL(store.url)
    const service = find(manifests, 'Service', 'redis').object as unknown as IService
    const { deployment } = podOf(find(manifests, 'Deployment', 'redis'), 'redis')
    expect(store.type).toBe('redis')
    expect(url.hostname).toBe(`redis.${NAMESPACE}.svc.cluster.local`)
    expect(service.spec?.ports?.map((port) => port.port)).toEqual([Number(url.port)])
    expect(selects(service.spec?.selector, deployment.spec?.template.metadata?.labels)).toBe(true)
  })

  it('run Latch and the session app from the Dockerfile\'s image, with commands that exist in it', () => {
    const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8')
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/cli\/main\.js"/m)
    for (const [name, script] of [['latch', 'dist/cli/main.js'], ['session-app', 'dist/demo/run-session-app.js']] as const) {
      const { container } = podOf(find(manifests, 'Deployment', name), name)
      expect(container.image).toBe(`latch:${VERSION}`)
      expect(container.command?.slice(0, 2)).toEqual(['node', script])
      // tsconfig.build.json compiles src/X.ts to dist/X.js.
      expect(existsSync(resolve(ROOT, script.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'))), script).toBe(true)
    }
  })

  it('mount the ConfigMap as a directory, so that updates reach the file Latch reads', () => {
    const { pod, container } = podOf(find(manifests, 'Deployment', 'latch'), 'latch')
    const configFile = container.command?.[container.command.indexOf('--config') + 1] as string
    const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === posix.dirname(configFile))
    expect(mount?.subPath).toBeUndefined()
    expect(pod.volumes?.find((volume) => volume.name === mount?.name)?.configMap?.name).toBe('latch-config')
    const configMap = find(manifests, 'ConfigMap', 'latch-config').object as { data: Record<string, string> }
    expect(Object.keys(configMap.data)).toEqual([posix.basename(configFile)])
  })

  it('run every container as non-root on a read-only root filesystem, with resource requests and limits', () => {
    for (const manifest of manifests.filter((candidate) => candidate.kind === 'Deployment')) {
      const pod = (manifest.object as unknown as ReturnType<typeof podOf>['deployment']).spec?.template.spec
      expect(pod?.securityContext?.runAsNonRoot, manifest.name).toBe(true)
      // The image's USER is a name ("node"); the kubelet can only verify non-root from a number.
      expect(pod?.securityContext?.runAsUser, manifest.name).toBeGreaterThan(0)
      expect(pod?.automountServiceAccountToken, manifest.name).toBe(false)
      for (const container of pod?.containers ?? []) {
        const where = `${manifest.name}/${container.name}`
        expect(container.securityContext, where).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } })
        expect(Object.keys(container.resources?.requests ?? {}).sort(), where).toEqual(['cpu', 'memory'])
        expect(Object.keys(container.resources?.limits ?? {}).sort(), where).toEqual(['cpu', 'memory'])
      }
    }
    const { pod, container } = podOf(find(manifests, 'Deployment', 'latch'), 'latch')
    const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp')
    expect(pod.volumes?.find((volume) => volume.name === tmp?.name)?.emptyDir).toBeDefined()
  })

  it('keep the example Secret\'s values long enough for Latch (16+ characters)', () => {
    const secret = find(manifests, 'Secret', 'latch-secrets').object as { stringData: Record<string, string> }
    expect(Object.keys(secret.stringData).sort()).toEqual(['admin-token', 'session-secret'])
    for (const value of Object.values(secret.stringData)) expect(value.length).toBeGreaterThanOrEqual(16)
  })
})
