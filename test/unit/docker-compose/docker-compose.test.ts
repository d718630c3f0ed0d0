import { existsSync, readFileSync } from 'node:fs'
import { posix, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfigFile } from '../../../src/config/load.js'
import { composeSeconds, readCompose, ROOT, serviceEnv, type ComposeService } from '../../helpers/docker-compose.js'
import { find, podOf, readManifests } from '../../helpers/kubernetes-manifests.js'

const VERSION = (JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string }).version
const { services } = readCompose()
const LATCHES = ['latch-1', 'latch-2'] as const
const BACKENDS = ['backend-1', 'backend-2', 'backend-3'] as const
/** Time Latch needs after drainTimeout (closing sockets, pools and Redis) before Docker's SIGKILL. */
const MIN_MARGIN_SECONDS = 2

function service(name: string): ComposeService {
  const found = services[name]
  if (found === undefined) throw new Error(`docker-compose.yml has no service ${name}`)
  return found
}

/** Where the image's CMD reads its config: the final stage's WORKDIR joined with CMD's --config. */
function imageConfigPath(): string {
  const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8')
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '))
  const workdir = [...finalStage.matchAll(/^WORKDIR (\S+)$/gm)].at(-1)?.[1] as string
  const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(finalStage)?.[1] as string) as string[]
  return posix.resolve(workdir, cmd[cmd.indexOf('--config') + 1] as string)
}

/** The Latch config file the Latch services mount (host path, relative to the repository). */
function mountedConfig(): { host: string; container: string } {
  const [host, container] = (service('latch-1').volumes?.[0] ?? '').split(':') as [string, string]
  return { host, container }
}

function loadMountedConfig(): ReturnType<typeof loadConfigFile> {
  return loadConfigFile(resolve(ROOT, mountedConfig().host), serviceEnv(service('latch-1')))
}

describe('docker-compose.yml', () => {
  it('runs two Latch replicas, Redis and three session-app backends', () => {
    expect(Object.keys(services).sort()).toEqual([...BACKENDS, ...LATCHES, 'redis'].sort())
    expect(service('redis').image).toMatch(/^redis:\d/)
    expect(service('redis').healthcheck?.test).toEqual(['CMD', 'redis-cli', 'ping'])
  })

  it('builds the image once from the Dockerfile, and runs Latch and the backends from it, the same image the Kubernetes manifests run', () => {
    const k8sImage = podOf(find(readManifests(), 'Deployment', 'latch'), 'latch').container.image
    expect(Object.keys(services).filter((name) => service(name).build !== undefined)).toEqual(['backend-1'])
    expect(service('backend-1').build).toBe('.')
    for (const name of [...LATCHES, ...BACKENDS]) expect(service(name).image, name).toBe(`latch:${VERSION}`)
    expect(k8sImage).toBe(`latch:${VERSION}`)
    expect(existsSync(resolve(ROOT, 'Dockerfile'))).toBe(true)
  })

  it('publishes each replica on its own host port, onto the port the config listens on', () => {
    const { config } = loadMountedConfig()
    const port = Number(/:(\d+)$/.exec(config.listen[0]?.address ?? '')?.[1])
    expect(LATCHES.map((name) => service(name).ports)).toEqual([[`8081:${port}`], [`8082:${port}`]])
    for (const name of BACKENDS) expect(service(name).ports, name).toBeUndefined()
  })

  it('gives both replicas the same config, secret and dependencies', () => {
    const [one, two] = LATCHES.map((name) => ({ ...service(name), ports: undefined }))
    expect(one).toEqual(two)
    expect(serviceEnv(service('latch-1')).SESSION_SECRET?.length).toBeGreaterThanOrEqual(16)
    expect(serviceEnv(service('latch-1'), { SESSION_SECRET: 'from-the-shell-0123456789' }).SESSION_SECRET).toBe('from-the-shell-0123456789')
    // Latch waits for Redis and every backend to pass their health checks (each defines one).
    expect(service('latch-1').depends_on).toEqual({ redis: { condition: 'service_healthy' }, ...Object.fromEntries(BACKENDS.map((name) => [name, { condition: 'service_healthy' }])) })
    for (const name of Object.keys(service('latch-1').depends_on ?? {})) expect(service(name).healthcheck, name).toBeDefined()
  })

  it('mounts its Latch config where the image\'s CMD and HEALTHCHECK read it', () => {
    const { host, container } = mountedConfig()
    expect(host).toBe('./config/compose/latch.yaml')
    expect(container).toBe(imageConfigPath())
    expect(service('latch-1').volumes).toEqual([`${host}:${container}:ro`])
    expect(service('latch-1').command).toBeUndefined()
  })

  it('mounts a Latch config that passes Latch\'s loader with the environment compose sets', () => {
    const { config } = loadMountedConfig()
    expect(config.pools.map((pool) => pool.name)).toEqual(['app'])
    expect(config.pools[0]?.affinity.mode).toBe('cookie')
    expect(config.sessionSecrets).toEqual([serviceEnv(service('latch-1')).SESSION_SECRET])
    expect(config.admin.listen).toBe('127.0.0.1:9901') // where the image's HEALTHCHECK looks, per the mounted file
  })

  it('points the pool at the backend services and the store at the Redis service', () => {
    const { config } = loadMountedConfig()
    const expected = BACKENDS.map((name) => `http://${name}:${serviceEnv(service(name)).SESSION_APP_PORT ?? '8080'}`)
    expect(config.pools[0]?.endpoints.map((endpoint) => endpoint.url.replace(/\/$/, ''))).toEqual(expected)
    // `store` comes with the Redis store (issue 5); read it untyped so this file compiles without it.
    const { store } = config as unknown as { store: { type: string; url: string } }
    expect(store.type).toBe('redis')
    expect(new URL(store.url).hostname).toBe('redis')
  })

  it('lets each replica drain before Docker kills it', () => {
    const { drainDelay, drainTimeout } = loadMountedConfig().config.shutdown
    for (const name of LATCHES) {
      expect(composeSeconds(service(name).stop_grace_period ?? '10s'), name).toBeGreaterThanOrEqual((drainDelay + drainTimeout) / 1000 + MIN_MARGIN_SECONDS)
    }
  })

  it('runs the session app in the backends, each under its own name, with a health check on its own port', () => {
    for (const name of BACKENDS) {
      const backend = service(name)
      const env = serviceEnv(backend)
      expect(backend.command?.slice(0, 2), name).toEqual(['node', 'dist/demo/run-session-app.js'])
      expect(existsSync(resolve(ROOT, 'src/demo/run-session-app.ts'))).toBe(true)
      expect(env.SESSION_APP_NAME).toBe(name)
      expect(backend.healthcheck?.test).toEqual(['CMD', 'node', 'scripts/healthcheck.mjs'])
      expect(env.LATCH_HEALTHCHECK_URL).toBe(`http://127.0.0.1:${env.SESSION_APP_PORT ?? '8080'}/healthz`)
    }
  })

  it('is what the walkthrough (docs/guides/docker-compose.md) talks about: its services and published ports', () => {
    const section = readFileSync(resolve(ROOT, 'docs/guides/docker-compose.md'), 'utf8')
    expect(section.startsWith('# docker compose: two replicas + Redis\n')).toBe(true)
    const named = [...section.matchAll(/docker compose (?:stop|start|exec|logs -f) ([\w-]+(?: [\w-]+)*)/g)].flatMap((match) => (match[1] as string).split(' ')).filter((word) => /^(latch-\d+|backend-\d+|redis)$/.test(word))
    expect(named.length).toBeGreaterThan(5)
    for (const name of named) expect(Object.keys(services), name).toContain(name)
    const ports = new Set([...section.matchAll(/localhost:(\d+)/g)].map((match) => match[1]))
    expect([...ports].sort()).toEqual(LATCHES.map((name) => service(name).ports?.[0]?.split(':')[0]).sort())
  })

  it('parses compose durations', () => {
    expect([composeSeconds('10s'), composeSeconds('1m30s'), composeSeconds('500ms')]).toEqual([10, 90, 0.5])
    expect(() => composeSeconds('10')).toThrow(/not a compose duration/)
  })
})
