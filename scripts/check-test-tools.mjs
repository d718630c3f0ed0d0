#!/usr/bin/env node
/**
 * @module `npm test` runs this first: the tests start real Redis servers (never mocks), so without
 * `redis-server` dozens of them would fail one by one. Instead, stop at once with one message
 * saying what to install. Looks the commands up on PATH as the tests' spawn() will.
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** ACL users and TLS, which the Redis tests use, came with Redis 6. */
const MIN_REDIS_MAJOR = 6
const INSTALL = ['  Debian/Ubuntu: sudo apt-get install redis-server', '  macOS:         brew install redis'].join('\n')

/** Full path of `command` in a PATH directory, or undefined. */
function onPath(command, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, command)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not in this directory
    }
  }
  return undefined
}

/** The problem with the Redis install, or undefined when the tests can use it. */
function redisProblem() {
  // redis-cli comes with redis-server in both packages; the cluster tests use it.
  const missing = ['redis-server', 'redis-cli'].filter((command) => onPath(command) === undefined)
  if (missing.length > 0) return `${missing.join(' and ')} ${missing.length === 1 ? 'is' : 'are'} not on PATH`
  const version = spawnSync(onPath('redis-server'), ['--version'], { encoding: 'utf8', timeout: 5000 })
  const major = Number(/\bv=(\d+)\./.exec(version.stdout ?? '')?.[1])
  if (!Number.isInteger(major)) return `redis-server --version did not run (${version.error?.message ?? `exit ${version.status}`})`
  if (major < MIN_REDIS_MAJOR) return `redis-server is version ${major}, and the tests need ${MIN_REDIS_MAJOR} or later`
  return undefined
}

const problem = redisProblem()
if (problem !== undefined) {
  process.stderr.write(`npm test: ${problem}. The tests start real Redis servers; install Redis, then run npm test again:\n${INSTALL}\n`)
  process.exit(1)
}
