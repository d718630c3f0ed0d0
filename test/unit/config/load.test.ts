/**
 * Every class of config mistake, through loadConfigFile on fixture files: the exact lines a user reads,
 * each `FILE: key.path: what is wrong — what is expected (line N)`.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfigFile } from '../../../src/config/load.js'
import { ConfigError } from '../../../src/errors/config-error.js'
import { CONFIG_MISTAKES, fixture } from '../../helpers/config-mistakes.js'

function problemsOf(file: string, env: NodeJS.ProcessEnv = {}): { code: string; lines: string[] } {
  try {
    loadConfigFile(file, env)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    return { code: error.code, lines: error.message.split('\n') }
  }
  throw new Error(`${file} loaded without error`)
}

describe('loadConfigFile refuses each class of mistake with a precise message', () => {
  it.each(CONFIG_MISTAKES)('$name', ({ file, code, lines }) => {
    const path = fixture(file)
    expect(problemsOf(path)).toEqual({ code, lines: lines(path) })
  })

  it('a directory given as the config file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latch-config-dir-'))
    expect(problemsOf(dir)).toEqual({ code: 'CONFIG_UNREADABLE', lines: [`${dir}: is a directory, expected a file — expected a readable YAML or JSON file`] })
  })

  it('every issue carries file, key path and line separately', () => {
    const path = fixture('unknown-key.yaml')
    expect(() => loadConfigFile(path, {})).toThrow(ConfigError)
    try {
      loadConfigFile(path, {})
    } catch (error) {
      expect((error as ConfigError).issues).toEqual([
        expect.objectContaining({ file: path, path: 'pools[0].balanse', line: 4, message: expect.stringContaining('did you mean "balance"?') }),
      ])
    }
  })
})

describe('loadConfigFile accepts valid configs', () => {
  it('a complete config with inline Ingress routes', () => {
    const loaded = loadConfigFile(fixture('valid.yaml'), {})
    expect(loaded.config.pools.map((pool) => pool.name)).toEqual(['web', 'api'])
    expect(loaded.config.pools[0]?.timeouts.responseHeaders).toBe(300)
    expect(loaded.config.pools[0]?.endpoints[1]).toEqual({ url: 'http://127.0.0.1:2', weight: 3 })
    expect(loaded.routes.defaultBackend?.action.backends[0]?.pool).toBe('web')
    expect([...loaded.routes.exactHosts.keys()]).toEqual(['api.example.com'])
    expect(Object.isFrozen(loaded.config)).toBe(true)
  })

  it('substitutes ${VAR} from the environment', () => {
    const loaded = loadConfigFile(fixture('missing-env.yaml'), { LATCH_TEST_UNSET_HOST: '127.0.0.9' })
    expect(loaded.config.pools[0]?.endpoints[0]?.url).toBe('http://127.0.0.9:8080')
  })

  it('routes from a multi-document manifest file, skipping non-Ingress documents', () => {
    const loaded = loadConfigFile(fixture('manifest-routes.yaml', 'routes'), { APP_URL: 'http://127.0.0.1:1', API_URL: 'http://127.0.0.1:2' })
    expect(loaded.routeSources.map((source) => source.name)).toEqual(['app', 'api'])
    const rules = loaded.routes.exactHosts.get('app.example.com')?.rules.map((rule) => `${rule.path} ${rule.pathType} ${rule.action.backends[0]?.pool}`)
    expect(rules).toEqual(['/api/exact Exact app', '/api Prefix api', '/ Prefix app'])
  })
})

/** Writes `text` to a fresh temporary config file and returns its path. */
function tempConfig(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'latch-config-')), 'latch.yaml')
  writeFileSync(file, text)
  return file
}

const ONE_POOL = 'pools:\n  - name: web\n    endpoints: [http://127.0.0.1:1]\n'

describe('every problem of a routing rule in a manifest file at once', () => {
  it('a bad pathType does not hide the next path\'s problems', () => {
    const file = tempConfig(`${ONE_POOL}routes: ingress.yaml\n`)
    const manifest = join(file, '..', 'ingress.yaml')
    const path = (at: string, type: string, pool: string): string => `          - path: ${at}\n            pathType: ${type}\n            backend: { service: { name: ${pool}, port: { number: 80 } } }\n`
    writeFileSync(manifest, `apiVersion: networking.k8s.io/v1\nkind: Ingress\nspec:\n  rules:\n    - http:\n        paths:\n${path('/api', 'Prefixx', 'web')}${path('static', 'Prefix', 'wbe')}`)
    expect(problemsOf(file).lines).toEqual([
      'ingress.yaml: spec.rules[0].http.paths[0].pathType: expected one of Exact, Prefix, ImplementationSpecific, got "Prefixx" (did you mean "Prefix"?) (line 8)',
      'ingress.yaml: spec.rules[0].http.paths[1].path: Prefix paths must start with "/", got "static" — expected a path such as /api (line 10)',
      `ingress.yaml: spec.rules[0].http.paths[1].backend.service.name: unknown pool "wbe" — expected one of the pools defined in ${file}: web (line 12)`,
    ])
  })
})

describe('loadConfigFile accepts the forms a user writes naturally', () => {
  it('listen: 8080 (a number) is a port on all interfaces, like -l 8080', () => {
    const loaded = loadConfigFile(tempConfig(`listen: 8080\n${ONE_POOL}`), {})
    expect(loaded.config.listen.map((listener) => listener.address)).toEqual(['8080'])
    expect(loadConfigFile(tempConfig(`listen: [8080, "127.0.0.1:8081"]\n${ONE_POOL}`), {}).config.listen.map((listener) => listener.address)).toEqual(['8080', '127.0.0.1:8081'])
  })

  it('a duration of 0 needs no unit', () => {
    const loaded = loadConfigFile(tempConfig(`server:\n  requestTimeout: 0\nshutdown:\n  drainDelay: "0"\n${ONE_POOL}`), {})
    expect(loaded.config.server.requestTimeout).toBe(0)
    expect(loaded.config.shutdown.drainDelay).toBe(0)
  })

  it('an optional key whose ${VAR:-} is empty counts as absent (its default applies)', () => {
    const text = `store:\n  type: redis\n  url: redis://127.0.0.1:6379\n  password: "\${REDIS_PASSWORD:-}"\nlog:\n  access: "\${ACCESS_LOG:-}"\n${ONE_POOL}`
    const loaded = loadConfigFile(tempConfig(text), {})
    expect(loaded.config.store).not.toHaveProperty('password')
    expect(loaded.config.log.access).toBe('stdout')
    expect(loadConfigFile(tempConfig(text), { REDIS_PASSWORD: 's3cret' }).config.store).toMatchObject({ password: 's3cret' })
  })

  it("the Redis guide's example (docs/guides/redis-replicas.md) works with REDIS_PASSWORD unset, as its comment says", () => {
    const guide = readFileSync(resolve(import.meta.dirname, '../../../docs/guides/redis-replicas.md'), 'utf8')
    expect(guide.startsWith('# Several replicas with Redis\n')).toBe(true)
    const chapter = guide
    const block = /```yaml\n([\s\S]*?)```/.exec(chapter)?.[1] ?? ''
    expect(block).toContain('password: "${REDIS_PASSWORD:-}"')
    const loaded = loadConfigFile(tempConfig(`${block}${ONE_POOL}`), { REDIS_URL: 'redis://127.0.0.1:6379' })
    expect(loaded.config.store).toMatchObject({ type: 'redis', url: 'redis://127.0.0.1:6379' })
    expect(loaded.config.store).not.toHaveProperty('password')
  })

  it('a required key whose ${VAR:-} is empty is reported as missing, naming the variable', () => {
    const file = tempConfig(`store:\n  type: redis\n  url: "\${REDIS_URL:-}"\n${ONE_POOL}`)
    expect(problemsOf(file)).toEqual({
      code: 'CONFIG_INVALID',
      lines: [`${file}: store.url: missing — type: redis expects url (redis://host:6379), sentinels with name, or cluster (it was "\${REDIS_URL:-}", which is empty) (line 3)`],
    })
  })
})
