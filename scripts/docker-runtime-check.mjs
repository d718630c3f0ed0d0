#!/usr/bin/env node
/**
 * @module Replays the Dockerfile without a container engine and proves the image would work.
 *
 * In a temp directory it replays the build stage (npm ci, npm run build) and the final stage exactly as
 * written (COPY, production-only `npm ci --omit=dev`, ENV, WORKDIR), then checks: USER is not root,
 * 8080 is exposed, every package the image's code imports is a production dependency that was
 * installed, the image's own CMD and config serve a request to a real upstream, HEALTHCHECK passes
 * while it serves and fails once it stopped, and SIGTERM stops it with exit code 0.
 *
 * Usage: node scripts/docker-runtime-check.mjs [--runtime-only] [--inject-import PACKAGE] [--keep]
 *   --runtime-only      take dist/ from this checkout (run `npm run build` first) instead of replaying the build stage
 *   --inject-import P   negative check: add `import 'P'` to the image's dist/cli/main.js; the check must fail
 *   --keep              keep the temp directory and print where it is
 * Exit code 0 when every check passed, 1 otherwise.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { dockerignoreFilter, parseDockerfile } from './lib/dockerfile.mjs'
import { baseEnv, emulateStage } from './lib/emulate-stage.mjs'
import { checkPackageImports } from './lib/import-check.mjs'
import { checkServing } from './lib/serve-check.mjs'

const REPO = dirname(dirname(fileURLToPath(import.meta.url)))

/** Replays the stages the final one copies from, then the final one; returns its result and app directory. */
function replay(stages, work, options) {
  const ignored = dockerignoreFilter(join(REPO, '.dockerignore'))
  const stageRoots = new Map()
  const final = stages.at(-1)
  const log = (line) => process.stdout.write(`${line}\n`)
  for (const stage of stages.slice(0, -1)) {
    if (stage.name === undefined || !final.instructions.some((instruction) => instruction.flags.from === stage.name)) continue
    const rootfs = join(work, stage.name)
    if (options.runtimeOnly) {
      // The build stage's WORKDIR stands for this checkout, whose dist/ `npm run build` produced.
      const workdir = stage.instructions.filter((instruction) => instruction.keyword === 'WORKDIR').map((instruction) => instruction.args).reduce((at, dir) => posix.resolve(at, dir), '/')
      mkdirSync(join(rootfs, dirname(workdir)), { recursive: true })
      symlinkSync(REPO, join(rootfs, workdir))
      log(`stage ${stage.name}: using this checkout for ${workdir} (--runtime-only)`)
    } else {
      log(`stage ${stage.name} (FROM ${stage.from}):`)
      emulateStage(stage, { contextDir: REPO, rootfs, stageRoots, ignored, log })
    }
    stageRoots.set(stage.name, rootfs)
  }
  log(`stage ${final.name ?? 'final'} (FROM ${final.from}):`)
  const rootfs = join(work, 'image')
  const result = emulateStage(final, { contextDir: REPO, rootfs, stageRoots, ignored, log })
  return { result, appDir: join(rootfs, result.workdir) }
}

function staticChecks(result, appDir) {
  const user = result.user ?? 'root'
  const checks = [
    { ok: !['root', '0'].includes(user.split(':')[0]), what: `USER is a non-root user (${user})` },
    { ok: result.expose.some((port) => port.split('/')[0] === '8080'), what: `EXPOSE includes 8080 (${result.expose.join(' ')})` },
    { ok: result.cmd !== undefined && result.healthcheck !== undefined, what: 'the final stage has a CMD and a HEALTHCHECK' },
  ]
  const problems = checkPackageImports(appDir)
  checks.push({ ok: problems.length === 0, what: problems.length === 0 ? 'every package the image imports is an installed production dependency' : problems.join('\n       ') })
  return checks
}

async function main() {
  const { values } = parseArgs({ options: { 'runtime-only': { type: 'boolean' }, 'inject-import': { type: 'string' }, keep: { type: 'boolean' } } })
  const stages = parseDockerfile(readFileSync(join(REPO, 'Dockerfile'), 'utf8'))
  const work = mkdtempSync(join(tmpdir(), 'latch-image-'))
  try {
    const { result, appDir } = replay(stages, work, { runtimeOnly: values['runtime-only'] === true })
    const inject = values['inject-import']
    if (inject !== undefined) {
      const main = join(appDir, 'dist/cli/main.js')
      writeFileSync(main, readFileSync(main, 'utf8').replace(/^(#!.*\n)?/, `$1import '${inject}'\n`))
      process.stdout.write(`negative check: dist/cli/main.js now imports "${inject}"\n`)
    }
    const checks = staticChecks(result, appDir)
    if (result.cmd !== undefined && result.healthcheck !== undefined) {
      checks.push(...(await checkServing({ cwd: appDir, env: { ...baseEnv(), ...result.env }, cmd: result.cmd, healthcheck: result.healthcheck })))
    }
    for (const check of checks) process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'} ${check.what}\n`)
    const failed = checks.filter((check) => !check.ok).length
    process.stdout.write(failed === 0 ? 'docker runtime check passed\n' : `docker runtime check failed: ${failed} of ${checks.length} checks\n`)
    return failed === 0 ? 0 : 1
  } finally {
    if (values.keep === true) process.stdout.write(`kept ${work}\n`)
    else rmSync(work, { recursive: true, force: true })
  }
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`docker runtime check could not run: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
