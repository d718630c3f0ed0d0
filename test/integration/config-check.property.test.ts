/**
 * Property: `latch check` on any config document — near-valid, wrong types, unknown keys, broken YAML,
 * arbitrary bytes — never crashes: it exits 0 (`FILE: ok (…)`) or 1 with every line of its report in
 * the house style `FILE: key.path: message`, never a stack trace or an internal error.
 */
import fc from 'fast-check'
import { stringify } from 'yaml'
import { describe, expect, it } from 'vitest'
import { runCli, writeConfig } from '../helpers/latch-process.js'

const KEYS = ['listen', 'pools', 'routes', 'admin', 'log', 'store', 'shutdown', 'server', 'trustedProxies', 'sessionSecrets', 'workers', 'name', 'endpoints', 'balance', 'affinity', 'mode', 'cookie', 'clientIp', 'header', 'learn', 'hash', 'timeout', 'maxEntries', 'type', 'url', 'tls', 'healthCheck', 'rules', 'http', 'paths', 'path', 'pathType', 'backend', 'service', 'defaultBackend', 'level', 'access', 'token', 'drainTimeout', 'weight', 'retries']
const key = fc.oneof({ arbitrary: fc.constantFrom(...KEYS), weight: 4 }, { arbitrary: fc.string({ maxLength: 8 }), weight: 1 })
const scalar = fc.oneof(
  fc.constantFrom('127.0.0.1:0', '[::1]:0', '0.0.0.0:99999', 'http://127.0.0.1:3001', 'https://app.test', 'ftp://x', 'http://', '10s', '-1s', '1MiB', 'round-robin', 'cookie', 'client-ip', 'memory', 'redis', '${LATCH_PROPERTY_UNSET}', '${HOME}', '${X:-fallback}', '127.0.0.1/32', '::/0', 'off', 'auto'),
  fc.string({ maxLength: 12 }),
  fc.integer({ min: -5, max: 70_000 }),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
)
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
}))
const endpoint = fc.oneof(fc.constantFrom('http://127.0.0.1:3001', 'http://127.0.0.1:3002', 'https://app.test:8443', 'http://[::1]:80', 'ftp://x', 'http://:0', ''), value)
const pool = fc.record(
  {
    name: fc.oneof(fc.constantFrom('web', 'api', 'web'), value),
    endpoints: fc.oneof(fc.array(endpoint, { maxLength: 3 }), value),
    balance: fc.oneof(fc.constantFrom('round-robin', 'least-request', 'random', 'least-sessions', 'fastest'), value),
    affinity: fc.oneof(fc.record({ mode: fc.oneof(fc.constantFrom('none', 'cookie', 'header', 'client-ip', 'hash', 'learn', 'sticky'), value), cookie: value, clientIp: value, hash: value }, { requiredKeys: [] }), value),
    healthCheck: value,
  },
  { requiredKeys: [] },
)
const document = fc.tuple(
  fc.record(
    {
      listen: fc.oneof(fc.constantFrom('127.0.0.1:0', '127.0.0.1:8080'), value),
      pools: fc.oneof({ arbitrary: fc.array(pool, { maxLength: 3 }), weight: 4 }, { arbitrary: value, weight: 1 }),
      // A string or list of strings names route files: their problems too are reported as `FILE: routes…: …`.
      routes: value,
      admin: value,
      log: value,
      store: fc.oneof(fc.record({ type: fc.constantFrom('memory', 'redis', 'etcd'), maxEntries: value, url: value }, { requiredKeys: [] }), value),
      shutdown: value,
      server: value,
      trustedProxies: value,
      workers: value,
    },
    { requiredKeys: [] },
  ),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), value, { maxKeys: 2 }),
)
/** The file's text: the document as YAML or JSON, YAML with one character changed, or arbitrary text. */
const fileText = fc.oneof(
  document.map(([known, extra]) => stringify({ ...extra, ...known })),
  document.map(([known, extra]) => JSON.stringify({ ...extra, ...known })),
  fc.tuple(document, fc.nat(), fc.constantFrom('', ':', '-', ' ', '\t', '[', '{', '"', '&a', '*a', '!!binary ', '\n')).map(([[known, extra], at, insert]) => {
    const text = stringify({ ...extra, ...known })
    const index = at % (text.length + 1)
    return text.slice(0, index) + insert + text.slice(index + 1)
  }),
  fc.string({ maxLength: 60 }),
)

/** Every line of a failed check's report starts with the config file's name. */
function expectHouseStyle(file: string, stderr: string): void {
  const lines = stderr.trimEnd().split('\n')
  expect(lines.length).toBeGreaterThan(0)
  for (const line of lines) expect(line.startsWith(`${file}: `), line).toBe(true)
}

describe('latch check (property)', () => {
  // The property's first counterexample (before the config-messages change): an empty route file name
  // added a line ": is a directory, expected a file — …" that named neither the config file nor the key.
  it('reports an empty route file name as FILE: routes[0]: …', async () => {
    const file = writeConfig('pools: [{ name: web, endpoints: ["http://127.0.0.1:3001"] }]\nroutes: [""]\n')
    const { code, stderr } = await runCli(['check', '--config', file])
    expect(code).toBe(1)
    expectHouseStyle(file, stderr)
  })

  it('never crashes: exit 0 with "FILE: ok", or exit 1 with every line in the form "FILE: key.path: message"', async () => {
    await fc.assert(
      fc.asyncProperty(fileText, async (text) => {
        const file = writeConfig(text)
        const { code, stdout, stderr } = await runCli(['check', '--config', file], { LATCH_PROPERTY_UNSET: '' }, 30_000)
        expect(stderr).not.toMatch(/internal error|\n\s+at |TypeError|RangeError|ReferenceError/)
        expect([0, 1]).toContain(code)
        if (code === 0) {
          expect(stdout).toContain(`${file}: ok (`)
          return
        }
        expectHouseStyle(file, stderr)
      }),
      { numRuns: 30, interruptAfterTimeLimit: 30_000 },
    )
  }, 90_000)
})
