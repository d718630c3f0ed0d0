/**
 * @module Replays one Dockerfile stage on this machine: the stage's filesystem is a directory and RUN
 * runs in a shell there, so the image's build and runtime steps are checked without a container engine.
 *
 * What cannot be replayed is reported, not guessed: the base image is this machine's Node, USER is
 * recorded (and checked by the caller) but the steps run as the current user, and cache mounts use the
 * local npm cache. Any other instruction or mount type stops the replay with an error.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { basename, join, posix, relative } from 'node:path'
import { envPairs, execForm } from './dockerfile.mjs'

/** npm settings that only make installs quicker and quieter (cache first); they change nothing installed. */
const QUICK_NPM = { npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' }

/**
 * The environment a container step starts from: this machine's PATH (its node and npm stand in for the
 * base image's), HOME and npm cache, and nothing else, so a NODE_ENV or LATCH_* variable set where the
 * check runs cannot change what the image would do.
 */
export function baseEnv() {
  /** @type {Record<string, string>} */
  const env = {}
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'npm_config_cache']) if (process.env[name] !== undefined) env[name] = process.env[name]
  return env
}

/**
 * @typedef {import('./dockerfile.mjs').Stage} Stage
 * @typedef {{ workdir: string, env: Record<string, string>, user: string | undefined, expose: string[], healthcheck: string[] | undefined, cmd: string[] | undefined }} StageResult
 * @typedef {{ contextDir: string, rootfs: string, stageRoots: Map<string, string>, ignored: (path: string) => boolean, log: (line: string) => void }} StageOptions
 */

/** Runs every instruction of `stage` into `options.rootfs`; returns what the image would record. */
export function emulateStage(stage, options) {
  /** @type {StageResult} */
  const state = { workdir: '/', env: {}, user: undefined, expose: [], healthcheck: undefined, cmd: undefined }
  mkdirSync(options.rootfs, { recursive: true })
  for (const instruction of stage.instructions) {
    const flags = Object.entries(instruction.flags).map(([name, value]) => `--${name}=${value} `).join('')
    options.log(`  ${instruction.keyword} ${flags}${instruction.args}`)
    apply(instruction, state, options)
  }
  return state
}

function apply(instruction, state, options) {
  const at = (path) => join(options.rootfs, posix.resolve(state.workdir, path))
  switch (instruction.keyword) {
    case 'ARG':
    case 'LABEL':
      return
    case 'WORKDIR':
      state.workdir = posix.resolve(state.workdir, instruction.args)
      mkdirSync(at('.'), { recursive: true })
      return
    case 'ENV':
      Object.assign(state.env, envPairs(instruction))
      return
    case 'COPY':
      return copy(instruction, at, options)
    case 'RUN':
      return run(instruction, at('.'), state.env)
    case 'USER':
      state.user = instruction.args
      return
    case 'EXPOSE':
      state.expose.push(...instruction.args.split(/\s+/))
      return
    case 'HEALTHCHECK':
      state.healthcheck = execForm(instruction)
      return
    case 'CMD':
      state.cmd = execForm(instruction)
      return
    default:
      throw new Error(`Dockerfile line ${instruction.line}: ${instruction.keyword} is not replayed by this check — extend scripts/lib/emulate-stage.mjs`)
  }
}

/** COPY with Docker's rules: a directory's contents go into the destination; a file goes into a destination ending in "/". */
function copy(instruction, at, options) {
  const parts = instruction.args.split(/\s+/)
  const dest = parts.pop()
  const from = instruction.flags.from
  const sourceRoot = from === undefined ? options.contextDir : options.stageRoots.get(from)
  if (sourceRoot === undefined) throw new Error(`Dockerfile line ${instruction.line}: no stage named ${from} was replayed`)
  for (const source of parts) {
    if (/[*?[]/.test(source)) throw new Error(`Dockerfile line ${instruction.line}: wildcards in COPY are not replayed`)
    const path = join(sourceRoot, from === undefined ? source : posix.resolve('/', source))
    if (!existsSync(path) || (from === undefined && options.ignored(source))) {
      throw new Error(`Dockerfile line ${instruction.line}: COPY source ${source} does not exist${from === undefined ? ' in the build context (or .dockerignore excludes it)' : ` in stage ${from}`}`)
    }
    const isDir = statSync(path).isDirectory()
    const target = isDir || !(dest.endsWith('/') || parts.length > 1) ? at(dest) : join(at(dest), basename(source))
    const keep = (file) => from !== undefined || !options.ignored(relative(options.contextDir, file))
    cpSync(path, target, { recursive: true, filter: keep })
  }
}

function run(instruction, cwd, env) {
  const mount = instruction.flags.mount
  if (mount !== undefined && !mount.startsWith('type=cache,')) throw new Error(`Dockerfile line ${instruction.line}: only cache mounts are replayed, got --mount=${mount}`)
  const command = instruction.args.startsWith('[') ? execForm(instruction) : ['sh', '-c', instruction.args]
  const result = spawnSync(command[0], command.slice(1), { cwd, env: { ...baseEnv(), ...QUICK_NPM, ...env }, encoding: 'utf8' })
  if (result.status !== 0) {
    throw new Error(`Dockerfile line ${instruction.line}: RUN ${instruction.args} failed (exit ${result.status ?? result.signal})\n${result.stdout}${result.stderr}`)
  }
}
