/**
 * @module What the JSON records about the machine and the tools, and shell-quoting of command lines.
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { loadgenVersion } from './loadgen.mjs'
import { clockTicksPerSecond } from './processes.mjs'

const ROOT = new URL('../../', import.meta.url).pathname

/** Quotes each word for a POSIX shell when it needs it. */
export function shellLine(words) {
  return words.map((w) => (/^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`)).join(' ')
}

function git(args) {
  const result = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' })
  return result.status === 0 ? result.stdout.trim() : undefined
}

function nginxVersion() {
  // nginx -v prints to stderr.
  return (spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr ?? '').trim() || undefined
}

/** Versions, commit and machine facts for the JSON (no absolute path of the machine). */
export function environment(opts, pinned, pinReason) {
  const pkg = JSON.parse(readFileSync(new URL('package.json', `file://${ROOT}`), 'utf8'))
  const dirty = git(['status', '--porcelain', '--', 'src', 'package.json', 'package-lock.json'])
  return {
    latch: pkg.version,
    commit: git(['rev-parse', '--short', 'HEAD']),
    srcDirty: dirty === undefined ? undefined : dirty !== '',
    node: process.version,
    loadgen: loadgenVersion(opts.loadgen),
    upstream: opts.upstream === 'nginx' ? nginxVersion() : `node:http ${process.version}`,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model,
    clockTicks: clockTicksPerSecond(),
    pinned,
    pinReason,
  }
}
