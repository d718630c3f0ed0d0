import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { parse, stringify } from 'yaml'
import { startSessionApp, type SessionApp, type Visit } from '../../src/demo/session-app.js'
import { startDnsServer, stopDnsServers } from '../helpers/dns-server.js'
import { find, podOf, preStopSeconds, readManifests } from '../helpers/kubernetes-manifests.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { waitFor } from '../helpers/wait.js'

// The Latch Pod of config/kubernetes/ without a cluster: the ConfigMap's config and the Deployment's
// environment (secrets from the example Secret), the headless Service's DNS name answered by a real
// DNS server (test/helpers/dns-server.ts) with three session-app "Pods" on 127.0.0.2-4 (one port, as Pods share a containerPort),
// the probes' paths, and the SIGTERM that follows the preStop hook.

const manifests = readManifests()
const { pod, container } = podOf(find(manifests, 'Deployment', 'latch'), 'latch')
const secret = find(manifests, 'Secret', 'latch-secrets').object as { stringData: Record<string, string> }
const configMap = find(manifests, 'ConfigMap', 'latch-config').object as { data: Record<string, string> }
const tempDir = mkdtempSync(join(tmpdir(), 'latch-k8s-pod-'))
const cleanups: (() => Promise<unknown>)[] = []

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  await stopDnsServers()
  rmSync(tempDir, { recursive: true, force: true })
})

interface PodConfig {
  listen: unknown
  admin: { listen: string; token: string }
  store?: unknown
  shutdown: { drainDelay: string; drainTimeout: string }
  pools: { discovery: { dns: string; port: number; resolver?: string } }[]
}

/** The container's environment as the kubelet sets it, secrets taken from latch-secret.example.yaml. */
function podEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries((container.env ?? []).map((variable) => [variable.name, variable.valueFrom?.secretKeyRef === undefined ? variable.value : secret.stringData[variable.valueFrom.secretKeyRef.key]]))
}

/** Three session apps on 127.0.0.2, .3 and .4, all on one port. */
async function startPods(): Promise<SessionApp[]> {
  for (let attempt = 1; ; attempt++) {
    const first = await startSessionApp({ name: 'session-app-a', host: '127.0.0.2' })
    try {
      const second = await startSessionApp({ name: 'session-app-b', host: '127.0.0.3', port: first.port })
      const third = await startSessionApp({ name: 'session-app-c', host: '127.0.0.4', port: first.port }).catch(async (error: unknown) => {
        await second.close()
        throw error
      })
      return [first, second, third]
    } catch (error) {
      // The port was free on 127.0.0.2 but taken on another address: try another one.
      await first.close()
      if (attempt >= 5) throw error
    }
  }
}

async function visit(latch: LatchProcess, cookie: string | undefined): Promise<{ visit: Visit; affinity: string; cookie: string; connection: string | undefined }> {
  const response = await request(`${latch.url}/`, { headers: { accept: 'application/json', ...(cookie === undefined ? {} : { cookie }) } })
  if (response.statusCode !== 200) throw new Error(`${response.statusCode} ${await response.body.text()}`)
  const set = response.headers['set-cookie']
  const jar = new Map((cookie ?? '').split('; ').filter(Boolean).map((pair) => pair.split('=') as [string, string]))
  for (const line of Array.isArray(set) ? set : set === undefined ? [] : [set]) {
    const [name, value] = (line.split(';')[0] as string).split('=') as [string, string]
    jar.set(name, value)
  }
  const body = JSON.parse(await response.body.text()) as Visit
  return { visit: body, affinity: String(response.headers['x-latch-affinity']), cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '), connection: response.headers.connection as string | undefined }
}

async function status(url: string, init: { method?: 'GET' | 'POST'; headers?: Record<string, string> } = {}): Promise<number> {
  const response = await request(url, init)
  await response.body.dump()
  return response.statusCode
}

describe('the Latch Pod of config/kubernetes (no cluster: its config, environment, DNS name and lifecycle)', () => {
  it('serves sticky sessions from the headless Service, guards the admin API with the Secret\'s token, and drains on SIGTERM within the grace period', async () => {
    const pods = await startPods()
    for (const app of pods) cleanups.push(() => app.close())
    const config = parse(configMap.data['latch.yaml'] as string) as PodConfig
    const pool = config.pools[0] as PodConfig['pools'][number]
    const dns = await startDnsServer({ [pool.discovery.dns]: pods.map((app) => new URL(app.url).hostname) })
    // Only addresses change: loopback ports instead of 0.0.0.0:8080 / :9901, the test DNS server
    // instead of the cluster's, and the Pods' port. The memory store stands in for Redis: cookie
    // sessions resolve from the signed cookie alone (Redis sharing is tested with the Redis store).
    config.listen = '127.0.0.1:0'
    config.admin.listen = '127.0.0.1:0'
    pool.discovery.resolver = dns.address
    pool.discovery.port = pods[0]?.port as number
    delete config.store
    const file = join(tempDir, 'latch.yaml')
    writeFileSync(file, stringify(config))
    expect(container.command?.slice(0, 3)).toEqual(['node', 'dist/cli/main.js', '--config'])
    const latch = await startLatch({ args: ['--config', file, '--access-log', 'off'], env: podEnv() })
    cleanups.push(() => latch.stop('SIGKILL'))
    const admin = latch.adminUrl as string

    // The probes, as the kubelet sends them (no token: they are read-only calls).
    for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) expect(await status(`${admin}${probe?.httpGet?.path}`)).toBe(200)
    // Mutating admin calls need X-Latch-Admin: 1 and the token from the Secret.
    expect(await status(`${admin}/reload`, { method: 'POST', headers: { 'x-latch-admin': '1' } })).toBe(401)
    expect(await status(`${admin}/reload`, { method: 'POST', headers: { 'x-latch-admin': '1', authorization: `Bearer ${secret.stringData['admin-token']}` } })).toBe(200)

    // A session sticks to one Pod of the headless Service.
    let answer = await visit(latch, undefined)
    expect(answer).toMatchObject({ affinity: 'new', visit: { visits: 1 } })
    const bound = answer.visit.backend
    for (const visits of [2, 3]) {
      answer = await visit(latch, answer.cookie)
      expect([answer.visit.backend, answer.visit.visits, answer.affinity]).toEqual([bound, visits, 'hit'])
    }

    // Its Pod goes away (gone from DNS, process stopped): the session moves once, then sticks again.
    const gone = pods.find((app) => app.name === bound) as SessionApp
    await dns.setRecords({ [pool.discovery.dns]: pods.filter((app) => app !== gone).map((app) => new URL(app.url).hostname) })
    await gone.close()
    answer = await visit(latch, answer.cookie)
    expect(answer.visit.backend).not.toBe(bound)
    expect(answer).toMatchObject({ affinity: 'rebound', visit: { visits: 1 } })
    const moved = answer.visit.backend
    answer = await visit(latch, answer.cookie)
    expect([answer.visit.backend, answer.visit.visits, answer.affinity]).toEqual([moved, 2, 'hit'])

    // The kubelet runs preStop, then sends SIGTERM: /readyz fails at once, traffic is still served
    // (with Connection: close) during drainDelay, and Latch exits 0 before the grace period ends.
    const started = Date.now()
    latch.child.kill('SIGTERM')
    await waitFor(async () => (await status(`${admin}${container.readinessProbe?.httpGet?.path}`)) === 503, 2000, 20, '/readyz to fail')
    const during = await visit(latch, answer.cookie)
    expect([during.visit.backend, during.visit.visits, during.connection]).toEqual([moved, 3, 'close'])
    expect(await latch.exited).toBe(0)
    const budgetMs = ((pod.terminationGracePeriodSeconds as number) - preStopSeconds(container)) * 1000
    expect(Date.now() - started).toBeLessThan(budgetMs)
  }, 45_000)
})
