/**
 * @module `latch --help` text and the package version.
 */
import { readFileSync } from 'node:fs'

/** The version from package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  return pkg.version
}

export const USAGE = `latch — Layer-7 HTTP reverse proxy with sticky sessions

Usage:
  latch --config FILE              run from a YAML/JSON config file (or set LATCH_CONFIG)
  latch check --config FILE        validate a config, print every problem, bind nothing
  latch --upstream URL[,URL...]    quick mode: proxy to these endpoints, no file needed
  latch --help | --version

Quick-mode options:
  -l, --listen ADDR[,ADDR...]      traffic address (default 127.0.0.1:8080, this machine only);
                                   a port alone (8080, :8080) listens on every interface
  -u, --upstream URL[,URL...]      endpoints, e.g. http://127.0.0.1:3001,http://127.0.0.1:3002
      --canary URL[,URL...]        a canary version: --canary-weight % of new sessions go to it;
                                   with -a cookie|header a session stays on its version
      --canary-weight N            0–100 (default 10)
  -b, --balance POLICY             round-robin (default) | least-request | random | least-sessions
  -a, --affinity MODE              none (default) | cookie | header | client-ip | hash | learn
                                   (sticky sessions; adds X-Latch-Affinity to responses)
      --session-secret SECRET      signs cookie/header affinity tokens (16+ characters), so
                                   sessions survive a restart; or set LATCH_SESSION_SECRET
                                   (better: a flag shows in the process list)
      --trust-proxy CIDR[,CIDR...] peers whose X-Forwarded-* headers are believed
      --admin ADDR|off             admin API and /metrics listener (quick mode default: off)
  --upstream, --canary, --listen, --trust-proxy and --session-secret add up when repeated;
  any other option given twice is an error.

Options for every mode:
  -w, --workers N|auto             worker processes sharing the listeners (default 1; auto = one
                                   per CPU core); overrides the config's "workers"
      --access-log DEST            stdout (default) | stderr | off | FILE
      --log-level LEVEL            fatal | error | warn | info (default) | debug | trace | silent

Exit codes: 0 ok, 1 invalid config or start-up failure, 2 bad command line.
Docs: README.md, and docs/reference/ (config.md, cli.md, error-codes.md).`
