/**
 * Every class of config mistake, through loadConfigFile on fixture files: the exact lines a user reads,
 * each `FILE: key.path: what is wrong — what is expected (line N)`.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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
    expect(loaded.routes.defaultBackend?.pool).toBe('web')
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
    const rules = loaded.routes.exactHosts.get('app.example.com')?.rules.map((rule) => `${rule.path} ${rule.pathType} ${rule.pool}`)
    expect(rules).toEqual(['/api/exact Exact app', '/api Prefix api', '/ Prefix app'])
  })
})
