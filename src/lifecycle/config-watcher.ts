/**
 * @module Watches the config file (and the manifest files it names) and asks for a reload on change.
 *
 * Directories are watched, not files: editors save by writing a new file and renaming it over the
 * old one, which a file watch would lose track of. Events are debounced, so a reload runs once a
 * burst of writes is over; a half-written file that fails validation is simply rejected, and the
 * write that completes it triggers another attempt.
 * Kubernetes mounts a ConfigMap as `latch.yaml -> ..data/latch.yaml` and updates it by atomically
 * replacing the `..data` symlink, so the file's own name sees no event: a change of `..data` counts too.
 */
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'

/** The symlink the kubelet swaps to update a mounted ConfigMap or Secret (its AtomicWriter). */
const KUBERNETES_DATA_LINK = '..data'

/** Watches a changing set of files. */
export class ConfigWatcher {
  readonly #files: () => readonly string[]
  readonly #onChange: () => void
  readonly #debounceMs: number
  #watchers = new Map<string, FSWatcher>()
  #timer: NodeJS.Timeout | undefined

  constructor(files: () => readonly string[], onChange: () => void, debounceMs: number) {
    this.#files = files
    this.#onChange = onChange
    this.#debounceMs = debounceMs
  }

  /** Watches the directories of the current files (call again after a reload: the set may change). */
  sync(): void {
    const names = new Map<string, Set<string>>()
    for (const file of this.#files()) {
      const dir = dirname(file)
      if (!names.has(dir)) names.set(dir, new Set())
      names.get(dir)?.add(basename(file))
    }
    for (const [dir, watcher] of this.#watchers) {
      if (names.has(dir)) continue
      watcher.close()
      this.#watchers.delete(dir)
    }
    for (const [dir, files] of names) {
      this.#watchers.get(dir)?.close()
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null || files.has(name.toString()) || name.toString() === KUBERNETES_DATA_LINK) this.#changed()
        })
        watcher.on('error', () => watcher.close())
        this.#watchers.set(dir, watcher)
      } catch {
        // A directory that cannot be watched (gone, no permission): SIGHUP and POST /reload still work.
      }
    }
  }

  stop(): void {
    clearTimeout(this.#timer)
    for (const watcher of this.#watchers.values()) watcher.close()
    this.#watchers.clear()
  }

  #changed(): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(this.#onChange, this.#debounceMs)
    this.#timer.unref()
  }
}
