/**
 * The CLI's handling of configs and flags: `latch check --config FILE` and `latch --config FILE` print
 * every problem as `FILE: key.path: ...` on stderr and exit 1; a valid config checks with exit 0;
 * `--help`/`--version` work; a bad command line exits 2; quick-mode errors name the flag.
 */
import { describe, expect, it } from 'vitest'
import { CONFIG_MISTAKES, fixture } from '../helpers/config-mistakes.js'
import { runCli } from '../helpers/latch-process.js'

// The variable the env fixture refers to must be unset, whatever the caller's environment holds.
const ENV = { LATCH_TEST_UNSET_HOST: '', LATCH_CONFIG: '' }

describe.concurrent('latch check --config FILE', () => {
  it.each(CONFIG_MISTAKES)('$name: exit 1, every problem on stderr, nothing on stdout', async ({ file, lines }) => {
    const path = fixture(file)
    const result = await runCli(['check', '--config', path], ENV)
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`${lines(path).join('\n')}\n`)
    expect(result.stdout).toBe('')
  })

  it('a valid config: exit 0 and a one-line summary', async () => {
    const path = fixture('valid.yaml')
    const result = await runCli(['check', '--config', path], ENV)
    expect(result).toEqual({ code: 0, stdout: `${path}: ok (2 pools, 1 listener)\n`, stderr: '' })
  })

  it('a valid config with manifest routes and a warning', async () => {
    const path = fixture('manifest-routes.yaml', 'routes')
    const result = await runCli(['check', '--config', path], { ...ENV, APP_URL: 'http://127.0.0.1:1', API_URL: 'http://127.0.0.1:2' })
    // The manifest's ingress-nginx annotation has no Latch equivalent: named, and otherwise ignored.
    const warning = 'warning: ./manifests.yaml (Ingress app): unsupported annotations ignored: nginx.ingress.kubernetes.io/proxy-body-size'
    expect(result).toEqual({ code: 0, stdout: `${warning}\n${path}: ok (2 pools, 1 listener)\n`, stderr: '' })
  })

  it('reads LATCH_CONFIG when --config is absent', async () => {
    const path = fixture('unknown-key.yaml')
    const result = await runCli(['check'], { ...ENV, LATCH_CONFIG: path })
    expect(result.code).toBe(1)
    expect(result.stderr).toContain(`${path}: pools[0].balanse: unknown key`)
  })
})

describe.concurrent('latch --config FILE refuses to start with an invalid config', () => {
  it.each(CONFIG_MISTAKES)('$name: exit 1, problems on stderr, binds nothing', async ({ file, lines }) => {
    const path = fixture(file)
    const result = await runCli(['--config', path], ENV)
    expect(result.code).toBe(1)
    expect(result.stderr).toBe(`${lines(path).join('\n')}\nlatch: refusing to start with an invalid config\n`)
    expect(result.stdout).not.toContain('latch is serving')
  })
})

describe.concurrent('command line', () => {
  it('--help prints usage and exits 0', async () => {
    for (const flag of ['--help', '-h']) {
      const result = await runCli([flag], ENV)
      expect(result.code).toBe(0)
      expect(result.stdout).toMatch(/^latch — Layer-7 HTTP reverse proxy/)
      expect(result.stdout).toContain('latch check --config FILE')
      expect(result.stderr).toBe('')
    }
  })

  it('--version prints the package version and exits 0', async () => {
    const result = await runCli(['--version'], ENV)
    expect(result).toEqual({ code: 0, stdout: 'latch 0.1.0\n', stderr: '' })
  })

  it.each([
    [['--bogus'], "latch: Unknown option '--bogus'"],
    [['frob'], 'latch: unknown command "frob" — expected "latch check --config FILE" or "latch [options]"'],
    [['--upstream'], "latch: Option '-u, --upstream <value>' argument missing"],
    [['--config', 'a.yaml', '--upstream', 'http://127.0.0.1:1'], 'latch: --config and --upstream cannot be combined'],
    [[], 'latch: nothing to proxy — give --config FILE (or LATCH_CONFIG), or --upstream URL[,URL...] for quick mode'],
    [['check'], 'latch: nothing to proxy'],
  ])('%j exits 2 with a usage message', async (args, message) => {
    const result = await runCli(args, ENV)
    expect(result.code).toBe(2)
    expect(result.stderr.startsWith(message)).toBe(true)
    expect(result.stdout).toBe('')
  })

  it('quick mode errors name the flag and the item; repeated --upstream and --listen add up', async () => {
    const result = await runCli(['--upstream', 'ftp://x', '-u', 'http://127.0.0.1:1/a', '--listen', '127.0.0.1:1', '-l', '127.0.0.1:99999', '--trust-proxy', '10.0.0.0/40'], ENV)
    expect(result.code).toBe(1)
    expect(result.stderr.split('\n')).toEqual([
      'command line: --listen (item 2): port 99999 is out of range — expected a number from 0 to 65535, got "127.0.0.1:99999"',
      'command line: --trust-proxy (item 1): invalid CIDR "10.0.0.0/40" — the prefix length must be a number from 0 to 32',
      'command line: --upstream (item 1): unsupported scheme "ftp" in "ftp://x" — expected http://host:port or https://host:port',
      'command line: --upstream (item 2): URL "http://127.0.0.1:1/a" must not have a path, query or fragment (routes decide the path) — expected http://host:port or https://host:port',
      'latch: refusing to start with an invalid config',
      '',
    ])
  })

  it.each([
    [['--affinity', 'cookies'], 'latch: --affinity: expected one of none, cookie, header, client-ip, hash, learn, got "cookies" (did you mean "cookie"?)'],
    [['-b', 'roundrobin'], 'latch: --balance: expected one of round-robin, least-request, random, least-sessions, got "roundrobin" (did you mean "round-robin"?)'],
    [['--log-level', 'verbose'], 'latch: --log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    [['--log-level', 'warning'], 'latch: --log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "warning" (did you mean "warn"?)'],
    [['--balance', 'random', '--balance', 'least-request'], 'latch: --balance given twice ("random", "least-request") — give it once'],
    [['-a', 'cookie', '--affinity', 'hash'], 'latch: --affinity given twice ("cookie", "hash") — give it once'],
  ])('a bad option value %j exits 2 naming the flag, the allowed values and a likely fix', async (args, message) => {
    const result = await runCli(['--upstream', 'http://127.0.0.1:1', ...args], ENV)
    expect(result).toEqual({ code: 2, stdout: '', stderr: `${message}\nRun "latch --help" for usage.\n` })
  })

  it('a bad --log-level exits 2 with a config file too', async () => {
    const result = await runCli(['check', '--config', fixture('valid.yaml'), '--log-level', 'verbose'], ENV)
    expect(result.code).toBe(2)
    expect(result.stderr).toBe('latch: --log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"\nRun "latch --help" for usage.\n')
  })

  it('two --config flags exit 2', async () => {
    const result = await runCli(['check', '--config', 'a.yaml', '-c', 'b.yaml'], ENV)
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'latch: --config given twice ("a.yaml", "b.yaml") — give it once\nRun "latch --help" for usage.\n' })
  })

  it('quick mode: a --listen without a host says at start that it listens on every interface', async () => {
    const result = await runCli(['check', '--listen', '8080', '-l', '127.0.0.1:8081', '--upstream', 'http://127.0.0.1:1'], ENV)
    expect(result).toEqual({
      code: 0,
      stdout: 'warning: command line: --listen 8080 listens on every interface (0.0.0.0:8080), reachable from other machines — write 127.0.0.1:8080 for this machine only\ncommand line: ok (1 pool, 2 listeners)\n',
      stderr: '',
    })
  })

  it('quick mode: a short session secret is refused without echoing it, naming where it came from', async () => {
    const fromFlag = await runCli(['--upstream', 'http://127.0.0.1:1', '--session-secret', 'hunter2'], ENV)
    expect(fromFlag).toEqual({ code: 1, stdout: '', stderr: 'command line: --session-secret (item 1): expected a secret of at least 16 characters\nlatch: refusing to start with an invalid config\n' })
    const fromEnv = await runCli(['--upstream', 'http://127.0.0.1:1'], { ...ENV, LATCH_SESSION_SECRET: 'hunter2' })
    expect(fromEnv).toEqual({ code: 1, stdout: '', stderr: 'command line: LATCH_SESSION_SECRET: expected a secret of at least 16 characters\nlatch: refusing to start with an invalid config\n' })
  })

  it('--session-secret with a config file exits 2 and says where the secret goes', async () => {
    const result = await runCli(['check', '--config', fixture('valid.yaml'), '--session-secret', 'a-secret-of-enough-length'], ENV)
    expect(result).toEqual({ code: 2, stdout: '', stderr: 'latch: --session-secret is for quick mode — with a config file, set sessionSecrets in it (e.g. ["${SESSION_SECRET}"])\nRun "latch --help" for usage.\n' })
  })

  it('--help says what a bare --listen port binds and how repeated flags combine', async () => {
    const result = await runCli(['--help'], ENV)
    expect(result.stdout).toContain('a port alone (8080, :8080) listens on every interface')
    expect(result.stdout).toContain('--upstream, --canary, --listen, --trust-proxy and --session-secret add up when repeated')
  })

  it('quick mode with an empty --upstream names the flag', async () => {
    const result = await runCli(['--upstream', ','], ENV)
    expect(result.code).toBe(1)
    expect(result.stderr).toContain('command line: --upstream: no upstream given')
  })
})
