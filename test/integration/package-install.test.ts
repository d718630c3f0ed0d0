import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { runCli, startLatch } from '../helpers/latch-process.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'

// The package as a user gets it: `npm pack`, then the tarball installed globally into a temporary
// prefix (the `latch` command) and into a temporary TypeScript project (the API), dependencies from
// npm's cache. dist/ is the one `npm test` built (pretest), so the pack skips the prepack build.

const REPO = resolve(import.meta.dirname, '../..')
const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; version: string; scripts: Record<string, string> }
const TSC = join(REPO, 'node_modules/typescript/bin/tsc')
const TYPES_NODE = (JSON.parse(readFileSync(join(REPO, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version
/** Each npm or tsc run; installs from the cache take seconds, but this machine can be slow. */
const STEP_TIMEOUT_MS = 150_000

/** Runs a command to completion; rejects with its output when it fails or times out. */
function run(file: string, args: readonly string[], cwd: string): Promise<string> {
  // npm run by `npm test` exports npm_* settings (prefix, package) that must not steer these installs.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')))
  return new Promise((resolveRun, reject) => {
    execFile(file, args, { cwd, env, timeout: STEP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolveRun(stdout)
      else reject(new Error(`${file} ${args.join(' ')} failed in ${cwd}: ${error.message}\n${stdout}\n${stderr}`))
    })
  })
}

const npm = (args: readonly string[], cwd: string): Promise<string> => run('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], cwd)

/** The TypeScript block of docs/guides/embedding.md ("Embedding Latch"). */
function readmeExample(): string {
  const guide = readFileSync(join(REPO, 'docs/guides/embedding.md'), 'utf8')
  if (!guide.startsWith('# Embedding Latch\n')) throw new Error('docs/guides/embedding.md: does not start with "# Embedding Latch"')
  const block = /```ts\n([\s\S]*?)```/.exec(guide)?.[1]
  if (block === undefined) throw new Error('docs/guides/embedding.md: no ```ts block')
  return block
}

describe('the packed package, installed', () => {
  let dir: string
  let tarball: string
  let bin: string
  let project: string
  let upstream: TestUpstream

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'latch-pack-'))
    const packed = JSON.parse(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], REPO)) as { filename: string }[]
    tarball = join(dir, (packed[0] as { filename: string }).filename)
    project = join(dir, 'project')
    mkdirSync(project)
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'embeds-latch', private: true, type: 'module' }))
    const prefix = join(dir, 'prefix')
    await Promise.all([npm(['install', '--global', '--prefix', prefix, tarball], dir), npm(['install', tarball, `@types/node@${TYPES_NODE}`], project)])
    bin = join(prefix, 'bin', 'latch')
    upstream = await startUpstream('app')
  }, 2 * STEP_TIMEOUT_MS)

  afterAll(async () => {
    await upstream?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('builds on pack, and ships the build, the types, the config examples and the licence, not the sources', async () => {
    expect(PKG.scripts.prepack).toBe('npm run build')
    const files = (await run('tar', ['tzf', tarball], dir)).split('\n')
    expect(files).toEqual(expect.arrayContaining(['package/dist/index.js', 'package/dist/index.d.ts', 'package/dist/cli/main.js', 'package/config/examples/demo.yaml', 'package/LICENSE', 'package/README.md', 'package/package.json']))
    expect(files.filter((file) => /^package\/(src|test|bench|scripts)\//.test(file))).toEqual([])
  })

  it('puts a working `latch` on the PATH of a global install', async () => {
    const help = await runCli(['--help'], {}, 15_000, bin)
    expect(help).toMatchObject({ code: 0, stderr: '' })
    expect(help.stdout).toContain('latch --upstream URL[,URL...]')
    expect(await runCli(['--version'], {}, 15_000, bin)).toMatchObject({ code: 0, stdout: `latch ${PKG.version}\n` })
  })

  it('runs a quick-mode proxy from the installed command', async () => {
    const latch = await startLatch({ command: bin, args: ['--upstream', upstream.url, '--listen', '127.0.0.1:0', '--access-log', 'off'] })
    try {
      const response = await request(`${latch.url}/through/the/package`)
      expect(response.statusCode).toBe(200)
      expect(response.headers['x-upstream']).toBe('app')
      expect(await response.body.json()).toMatchObject({ url: '/through/the/package' })
    } finally {
      expect(await latch.stop()).toBe(0)
    }
  })

  it('exposes only the API: internal modules cannot be imported', async () => {
    const script = `import('${PKG.name}/dist/proxy.js').then(() => console.log('imported'), (error) => console.log(error.code))`
    expect((await run(process.execPath, ['--input-type=module', '-e', script], project)).trim()).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED')
    const api = `import('${PKG.name}').then((api) => console.log(Object.keys(api).sort().join(' ')))`
    expect((await run(process.execPath, ['--input-type=module', '-e', api], project)).trim()).toBe('ConfigError StartupError loadConfig startLatch')
  })

  it('compiles the embedding guide\'s example with tsc --strict against the installed package, and runs it', async () => {
    writeFileSync(join(project, 'example.ts'), readmeExample())
    // No skipLibCheck: the declarations the package ships must type-check too.
    await run(process.execPath, [TSC, '--strict', '--module', 'nodenext', '--target', 'es2022', '--types', 'node', 'example.ts'], project)
    const output = await run(process.execPath, ['example.js'], project)
    expect(output).toContain('200 backend got /hello\n new')
    expect(output).toContain("[ 'app: healthy' ]")
    expect(output).toContain('pool app rebuilt')
  }, STEP_TIMEOUT_MS)
})

/** The "Installing the latch command" block of docs/reference/cli.md. */
function installBlock(): string {
  const guide = readFileSync(join(REPO, 'docs/reference/cli.md'), 'utf8')
  const start = guide.indexOf('## Installing the `latch` command\n')
  if (start === -1) throw new Error('docs/reference/cli.md: no "Installing the `latch` command" section')
  const block = /```sh\n([\s\S]*?)```/.exec(guide.slice(start))?.[1]
  if (block === undefined) throw new Error('docs/reference/cli.md: no ```sh block under "Installing the `latch` command"')
  return block
}

// The docs' other way: `npm i -g .` from a checkout (after `npm ci && npm run build`), a link to it.
// Run as written, with a temporary `--prefix` instead of the machine's global one.
describe('the checkout, installed globally with `npm i -g .`', () => {
  let prefix: string

  beforeAll(async () => {
    expect(installBlock()).toContain('npm ci && npm run build && npm i -g .')
    prefix = mkdtempSync(join(tmpdir(), 'latch-link-'))
    await npm(['i', '-g', '--prefix', prefix, '.'], REPO)
  }, STEP_TIMEOUT_MS)

  afterAll(() => {
    if (prefix !== undefined) rmSync(prefix, { recursive: true, force: true })
  })

  it('puts a `latch` on the PATH that is this checkout\'s build, and it runs `--version` and `check`', async () => {
    const bin = join(prefix, 'bin', 'latch')
    // A link, so `latch` follows later builds of the checkout, as the docs say.
    expect(realpathSync(bin)).toBe(realpathSync(join(REPO, 'dist/cli/main.js')))
    expect(await runCli(['--version'], {}, 15_000, bin)).toMatchObject({ code: 0, stdout: `latch ${PKG.version}\n` })
    const check = await runCli(['check', '--config', join(REPO, 'config/examples/minimal.yaml')], {}, 15_000, bin)
    expect(check).toMatchObject({ code: 0, stderr: '' })
    expect(check.stdout).toMatch(/minimal\.yaml: ok \(1 pool, 1 listener\)/)
  })
})
