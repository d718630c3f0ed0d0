import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigWatcher } from '../../../src/lifecycle/config-watcher.js'
import { waitFor } from '../../helpers/wait.js'

const DEBOUNCE_MS = 30
const cleanups: (() => void)[] = []

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup()
})

/** Watches `file` and counts the reloads it asks for. */
function watchFile(file: string): { reloads: () => number } {
  let reloads = 0
  const watcher = new ConfigWatcher(() => [file], () => reloads++, DEBOUNCE_MS)
  watcher.sync()
  cleanups.push(() => watcher.stop())
  return { reloads: () => reloads }
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'latch-watch-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

describe('ConfigWatcher', () => {
  it('asks for a reload when an editor renames a new file over the config', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'latch.yaml'), 'a: 1\n')
    const watched = watchFile(join(dir, 'latch.yaml'))
    writeFileSync(join(dir, 'latch.yaml.swp'), 'a: 2\n')
    renameSync(join(dir, 'latch.yaml.swp'), join(dir, 'latch.yaml'))
    await waitFor(() => watched.reloads() === 1, 2000, 10, 'a reload')
  })

  it('asks for a reload when the kubelet updates a mounted ConfigMap (the ..data symlink is swapped)', async () => {
    // The layout and update steps of the kubelet's AtomicWriter: latch.yaml -> ..data/latch.yaml,
    // ..data -> a timestamped directory; an update writes a new directory, points ..data_tmp at it,
    // renames ..data_tmp over ..data and removes the old directory. latch.yaml itself never changes.
    const dir = tempDir()
    mkdirSync(join(dir, '..2026_01_01_00_00_00.1'))
    writeFileSync(join(dir, '..2026_01_01_00_00_00.1', 'latch.yaml'), 'a: 1\n')
    symlinkSync('..2026_01_01_00_00_00.1', join(dir, '..data'))
    symlinkSync('..data/latch.yaml', join(dir, 'latch.yaml'))
    const watched = watchFile(join(dir, 'latch.yaml'))
    mkdirSync(join(dir, '..2026_01_01_00_01_00.2'))
    writeFileSync(join(dir, '..2026_01_01_00_01_00.2', 'latch.yaml'), 'a: 2\n')
    symlinkSync('..2026_01_01_00_01_00.2', join(dir, '..data_tmp'))
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'))
    rmSync(join(dir, '..2026_01_01_00_00_00.1'), { recursive: true })
    await waitFor(() => watched.reloads() >= 1, 2000, 10, 'a reload after the ConfigMap update')
  })

  it('ignores other files in the same directory', async () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'latch.yaml'), 'a: 1\n')
    const watched = watchFile(join(dir, 'latch.yaml'))
    writeFileSync(join(dir, 'notes.txt'), 'unrelated\n')
    // A reload, if one were coming, would be asked for DEBOUNCE_MS after the event.
    await new Promise((resolve) => setTimeout(resolve, DEBOUNCE_MS * 10))
    expect(watched.reloads()).toBe(0)
  })
})
