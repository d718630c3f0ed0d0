import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const REPO = resolve(import.meta.dirname, '../../..')
const README = readFileSync(join(REPO, 'README.md'), 'utf8')
const read = (path: string): string => readFileSync(join(REPO, path), 'utf8')

/** The `sh` code blocks of the README's Quick start, in order. */
function quickStartBlocks(): string[] {
  const start = README.indexOf('\n## Quick start\n')
  const section = README.slice(start, README.indexOf('\n## ', start + 1))
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => (match[1] as string).trim())
}

/** Runs scripts/check-test-tools.mjs with PATH set to `path` only (node itself is run by absolute path). */
function checkTools(path: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [join(REPO, 'scripts/check-test-tools.mjs')], { env: { PATH: path }, encoding: 'utf8', timeout: 10_000 })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

describe('README Quick start', () => {
  it('keeps the demo and the test command in separate blocks, so stopping the demo does not start the tests', () => {
    const blocks = quickStartBlocks()
    const demo = blocks.filter((block) => block.includes('npm run demo'))
    const tests = blocks.filter((block) => block.includes('npm test'))
    expect(demo).toEqual(['npm ci && npm run demo'])
    expect(tests).toEqual(['npm ci && npm test'])
  })

  it('is what .ci/run runs, after installing only what the Quick start names', () => {
    const run = read('.ci/run').split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#'))
    expect(run.at(-1)).toBe(quickStartBlocks().find((block) => block.includes('npm test')))
    expect(run).toContain('.ci/ensure-tools')
    const installs = [...read('.ci/ensure-tools').matchAll(/apt-get install ([^>\n]*)/g)].flatMap((match) => (match[1] as string).split(/\s+/).filter((word) => word !== '' && !word.startsWith('-')))
    expect(installs).toEqual(['redis-server'])
    expect(quickStartBlocks()).toContainEqual(expect.stringContaining('apt-get install redis-server'))
  })

  it('npm test checks for Redis before anything else', () => {
    expect(JSON.parse(read('package.json')).scripts.pretest).toMatch(/^node scripts\/check-test-tools\.mjs && /)
  })
})

describe('scripts/check-test-tools.mjs', () => {
  it('passes when redis-server and redis-cli are on PATH', () => {
    expect(checkTools(process.env.PATH ?? '')).toEqual({ status: 0, stdout: '', stderr: '' })
  })

  it('without redis-server on PATH, stops with one message giving the Quick start install lines', () => {
    const empty = mkdtempSync(join(tmpdir(), 'latch-path-'))
    try {
      const { status, stdout, stderr } = checkTools(empty)
      expect(status).toBe(1)
      expect(stdout).toBe('')
      expect(stderr).toBe([
        'npm test: redis-server and redis-cli are not on PATH. The tests start real Redis servers; install Redis, then run npm test again:',
        '  Debian/Ubuntu: sudo apt-get install redis-server',
        '  macOS:         brew install redis',
        '',
      ].join('\n'))
      const install = quickStartBlocks().find((block) => block.includes('apt-get install'))
      expect(install).toContain('sudo apt-get install redis-server   # Debian/Ubuntu')
      expect(install).toContain('brew install redis                  # macOS')
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })

  it('names only what is missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latch-path-'))
    try {
      const cli = spawnSync('sh', ['-c', 'command -v redis-cli'], { encoding: 'utf8' }).stdout.trim()
      symlinkSync(cli, join(dir, 'redis-cli'))
      expect(checkTools(dir).stderr).toMatch(/^npm test: redis-server is not on PATH\. /)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
