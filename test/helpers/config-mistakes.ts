/**
 * @module The config-mistake fixtures and the exact lines Latch must print for each; shared by the
 * loadConfigFile unit tests and the `latch check` / `latch --config` CLI tests.
 */
import { dirname, resolve } from 'node:path'

/** Absolute path of a fixture file (test/fixtures/<dir>/<name>). */
export function fixture(name: string, dir = 'config'): string {
  return resolve(import.meta.dirname, '../fixtures', dir, name)
}

/** One mistake: its fixture, the ConfigError code and the printed lines (given the path as passed). */
export interface ConfigMistake {
  readonly name: string
  readonly file: string
  readonly code: 'CONFIG_UNREADABLE' | 'CONFIG_SYNTAX' | 'CONFIG_INVALID' | 'CONFIG_ENV'
  readonly lines: (file: string) => string[]
}

const URL_EXPECTED = 'expected http://host:port or https://host:port'
const POOL_KEYS = 'expected one of: name, endpoints, balance, hostHeader, retry, timeouts, limits, affinity, sessionPersistence, healthCheck, passiveHealth, discovery, tls, proxyProtocol, drainTimeout, protocol'

/** One fixture per class of mistake (plus a combined one), with the exact lines Latch prints. */
export const CONFIG_MISTAKES: readonly ConfigMistake[] = [
  { name: 'YAML syntax error', file: 'yaml-syntax.yaml', code: 'CONFIG_SYNTAX', lines: (f) => [`${f}: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ] (line 4)`] },
  { name: 'unknown key, with did-you-mean', file: 'unknown-key.yaml', code: 'CONFIG_INVALID', lines: (f) => [`${f}: pools[0].balanse: unknown key "balanse" (did you mean "balance"?) — ${POOL_KEYS} (line 4)`] },
  {
    name: 'wrong type',
    file: 'wrong-type.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [`${f}: pools[0].retry.attempts: expected a whole number from 0 to 5, got "three" (line 4)`, `${f}: pools[0].timeouts.connect: expected a duration such as 250ms, 5s or 1m, got true (line 6)`],
  },
  {
    name: 'unknown pool in a backend',
    file: 'unknown-pool.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [`${f}: routes.rules[0].http.paths[0].backend.service.name: unknown pool "wbe" — expected one of the pools defined in ${f}: web (line 10)`],
  },
  {
    name: 'request body buffer too large, minimum-rate window of 0',
    file: 'request-body.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [
      `${f}: server.requestBody.bufferSize: expected at most 16MiB (every connection may hold this much memory), got 33554432 (line 3)`,
      `${f}: server.requestBody.minRate.window: expected a window longer than 0 while minRate.bytes is set (use bytes: 0 to disable the rule) (line 4)`,
    ],
  },
  { name: 'duplicate pool name', file: 'duplicate-pool.yaml', code: 'CONFIG_INVALID', lines: (f) => [`${f}: pools[1].name: duplicate pool name "web" — already used by pools[0]; pool names must be unique (line 4)`] },
  {
    name: 'bad endpoint URL',
    file: 'bad-endpoint.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [
      `${f}: pools[0].endpoints[0]: unsupported scheme "ftp" in "ftp://127.0.0.1:21" — ${URL_EXPECTED} (line 4)`,
      `${f}: pools[0].endpoints[1]: URL "http://127.0.0.1:1/app" must not have a path, query or fragment (routes decide the path) — ${URL_EXPECTED} (line 5)`,
      `${f}: pools[0].endpoints[2]: invalid URL "not a url" — ${URL_EXPECTED} (line 6)`,
    ],
  },
  {
    name: 'bad CIDR',
    file: 'bad-cidr.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [
      `${f}: trustedProxies[0]: invalid CIDR "10.0.0.0/33" — the prefix length must be a number from 0 to 32 (line 2)`,
      `${f}: trustedProxies[1]: invalid CIDR "10.0.0.300" — expected an IPv4 or IPv6 address with an optional /prefix, e.g. 10.0.0.0/8 (line 3)`,
    ],
  },
  { name: 'timer longer than Node.js can set', file: 'timer-too-long.yaml', code: 'CONFIG_INVALID', lines: (f) => [`${f}: server.tunnelIdleTimeout: too long a duration "30d" — expected a duration from 0 to 24d (the longest timer Node.js keeps), such as 30s, 10m or 1h (line 2)`] },
  { name: 'empty file', file: 'empty.yaml', code: 'CONFIG_INVALID', lines: (f) => [`${f}: file is empty — expected a YAML or JSON mapping with at least "pools"`] },
  { name: 'file with only comments', file: 'comments-only.yaml', code: 'CONFIG_INVALID', lines: (f) => [`${f}: file is empty — expected a YAML or JSON mapping with at least "pools"`] },
  { name: 'missing file', file: 'does-not-exist.yaml', code: 'CONFIG_UNREADABLE', lines: (f) => [`${f}: file not found — expected a readable YAML or JSON file`] },
  {
    name: 'missing environment variable in ${VAR}',
    file: 'missing-env.yaml',
    code: 'CONFIG_ENV',
    lines: (f) => [`${f}: pools[0].endpoints[0]: environment variable LATCH_TEST_UNSET_HOST is not set — set it, or write \${LATCH_TEST_UNSET_HOST:-default} to give a default (line 3)`],
  },
  {
    name: 'invalid ImplementationSpecific regex',
    file: 'bad-regex.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [`${f}: routes.rules[0].http.paths[0].path: invalid regular expression "/img/([0-9]+": /^(?:/img/([0-9]+)/: Unterminated group — ImplementationSpecific paths are JavaScript regular expressions anchored at the start (line 8)`],
  },
  {
    name: 'port out of range',
    file: 'port-range.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [
      `${f}: listen: port 70000 is out of range — expected a number from 0 to 65535, got "127.0.0.1:70000" (line 1)`,
      `${f}: routes.defaultBackend.service.port.number: expected a port number from 1 to 65535, got 0 (line 6)`,
    ],
  },
  {
    name: 'durations without a unit',
    file: 'unitless-duration.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [
      `${f}: pools[0].healthCheck.interval: 2 has no unit — write "2s" for seconds or "2ms" for milliseconds (line 6)`,
      `${f}: pools[0].healthCheck.timeout: "1" has no unit — write "1s" for seconds or "1ms" for milliseconds (line 7)`,
      `${f}: pools[0].timeouts.connect: 5 has no unit — write "5s" for seconds or "5ms" for milliseconds (line 9)`,
    ],
  },
  {
    name: 'routes file not found',
    file: 'missing-routes-file.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [`${f}: routes: ${resolve(dirname(f), 'k8s/ingress.yaml')} not found — expected a file of Kubernetes Ingress or HTTPRoute manifests (a relative path is read from the config file's directory) (line 4)`],
  },
  {
    name: 'unclosed ${',
    file: 'unclosed-variable.yaml',
    code: 'CONFIG_ENV',
    lines: (f) => [`${f}: pools[0].endpoints[0]: "\${" is not closed — write \${NAME} or \${NAME:-default}, or $\${ for a literal "\${" (line 3)`],
  },
  {
    name: 'misspelt keywords, with did-you-mean',
    file: 'enum-typos.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [
      `${f}: pools[0].balance: expected one of round-robin, least-request, random, least-sessions, got "roundrobin" (did you mean "round-robin"?) (line 4)`,
      `${f}: pools[0].hostHeader: "endpont" looks like a misspelt keyword (did you mean "endpoint"?) — expected preserve, endpoint, or a host name such as app.example.com (line 5)`,
      `${f}: pools[0].affinity.mode: expected one of none, cookie, header, client-ip, hash, learn, got "cookies" (did you mean "cookie"?) (line 7)`,
    ],
  },
  {
    name: 'several problems in one routing rule, all at once',
    file: 'rule-problems.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [
      `${f}: routes.rules[0].http.paths[0].pathType: expected one of Exact, Prefix, ImplementationSpecific, got "Prefixx" (did you mean "Prefix"?) (line 10)`,
      `${f}: routes.rules[0].http.paths[1].path: Prefix paths must start with "/", got "static" — expected a path such as /api (line 12)`,
      `${f}: routes.rules[0].http.paths[1].backend.service.name: unknown pool "wbe" — expected one of the pools defined in ${f}: web (line 14)`,
    ],
  },
  {
    name: 'multiple problems at once, in file order',
    file: 'many-problems.yaml',
    code: 'CONFIG_INVALID',
    lines: (f) => [
      `${f}: listen: port 99999 is out of range — expected a number from 0 to 65535, got ":99999" (line 1)`,
      `${f}: trustedProxies[0]: invalid CIDR "not-a-cidr" — expected an IPv4 or IPv6 address with an optional /prefix, e.g. 10.0.0.0/8 (line 2)`,
      `${f}: server.maxBodySize: invalid size "lots" — expected a size such as 16KiB, 10MiB or 1MB, or a number of bytes (line 4)`,
      `${f}: pools[0].balance: expected one of round-robin, least-request, random, least-sessions, got "fastest" (line 8)`,
      `${f}: pools[1].name: duplicate pool name "web" — already used by pools[0]; pool names must be unique (line 9)`,
      `${f}: pools[1].endpoints: pool "web" has no endpoints — expected at least one endpoint URL such as http://10.0.0.1:8080, or a discovery section (line 9)`,
      `${f}: pools[1].endpoint: unknown key "endpoint" (did you mean "endpoints"?) — ${POOL_KEYS} (line 10)`,
      `${f}: routes.defaultBackend.service.name: unknown pool "missing" — expected one of the pools defined in ${f}: web (line 12)`,
    ],
  },
]
