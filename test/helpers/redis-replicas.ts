/**
 * @module Several Latch replicas (real CLI processes) sharing one Redis store, in front of named
 * upstreams, for the Redis integration tests.
 *
 * Pools: `ip` (client-ip), `learn` (learn, JSESSIONID), `cookie` (cookie, no sessionSecrets: the
 * secret is shared through Redis), `least` (cookie with `balance: least-sessions`). Routes: `/ip`,
 * `/learn`, `/cookie`, `/least`. Client IPs are given with
 * X-Forwarded-For (127.0.0.1 is a trusted proxy), so one test process can be many clients.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { send, type SimpleResponse } from './http-client.js'
import { startLatch, type LatchProcess } from './latch-process.js'
import { startUpstream, type TestUpstream } from './upstream.js'

/** An upstream that names itself and, like a Java app, starts a JSESSIONID session when there is none. */
export async function sessionUpstream(name: string): Promise<TestUpstream> {
  return startUpstream(name, {
    mode: {
      kind: 'custom',
      handle: (req: IncomingMessage, res: ServerResponse) => {
        res.setHeader('x-upstream', name)
        if (!(req.headers.cookie ?? '').includes('JSESSIONID=')) res.setHeader('set-cookie', `JSESSIONID=${randomBytes(8).toString('hex')}; Path=/`)
        res.end(name)
      },
    },
  })
}

/** The Latch config of every replica. */
export function replicaConfig(store: Record<string, unknown>, upstreams: readonly TestUpstream[], options: { balance?: string; extra?: Record<string, unknown> } = {}): object {
  const endpoints = upstreams.map((upstream) => upstream.url)
  const pool = (name: string, affinity: Record<string, unknown>) => ({ name, endpoints, balance: options.balance ?? 'random', affinity: { responseHeader: true, ...affinity } })
  return {
    listen: '127.0.0.1:0',
    store,
    trustedProxies: ['127.0.0.1/32'],
    log: { level: 'info', access: 'off' },
    pools: [pool('ip', { mode: 'client-ip' }), pool('learn', { mode: 'learn' }), pool('cookie', { mode: 'cookie' }), { ...pool('least', { mode: 'cookie' }), balance: 'least-sessions' }],
    routes: {
      rules: [
        {
          http: {
            paths: ['ip', 'learn', 'cookie', 'least'].map((name) => ({ path: `/${name}`, pathType: 'Prefix', backend: { service: { name } } })),
          },
        },
      ],
    },
    ...options.extra,
  }
}

/** Starts `count` replicas with the same config. */
export async function startReplicas(count: number, config: object, env: NodeJS.ProcessEnv = {}): Promise<LatchProcess[]> {
  const results = await Promise.allSettled(Array.from({ length: count }, () => startLatch({ config, env, timeoutMs: 15_000 })))
  const started = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  const failed = results.find((result) => result.status === 'rejected')
  if (failed === undefined) return started
  // None may outlive a failed start.
  await Promise.all(started.map((latch) => latch.stop('SIGKILL')))
  throw failed.reason
}

/** One request as client `ip` (X-Forwarded-For), optionally with a Cookie header. */
export function asClient(latch: LatchProcess, path: string, ip: string, cookie?: string): Promise<SimpleResponse> {
  return send({ port: latch.port, path, headers: { 'x-forwarded-for': ip, ...(cookie === undefined ? {} : { cookie }) } })
}

/** The `name=value` pairs of a response's Set-Cookie headers, merged into `jar`. */
export function keepCookies(jar: Map<string, string>, response: SimpleResponse): string {
  for (const line of response.headers['set-cookie'] ?? []) {
    const pair = line.split(';')[0] as string
    const eq = pair.indexOf('=')
    jar.set(pair.slice(0, eq), pair.slice(eq + 1))
  }
  return [...jar].map(([name, value]) => `${name}=${value}`).join('; ')
}
