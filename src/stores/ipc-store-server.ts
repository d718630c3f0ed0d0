/**
 * @module The supervisor's side of IpcAffinityStore: one memory store for every worker.
 *
 * The supervisor handles one IPC message at a time, so claim (first binding wins) and rebind
 * (compare-and-set) are atomic across workers. A rebind that moved a binding is announced to the
 * other workers, which drop it from their caches.
 */
import type { OpHandlers, StoreOps } from './ipc-store-protocol.js'
import { MemoryAffinityStore, type MemoryStoreOptions } from './memory-store.js'

/** Serves the store operations of the workers. */
export class IpcStoreServer {
  readonly #store: MemoryAffinityStore
  readonly #announce: (keys: readonly string[], except: number) => void

  /** `announce` tells every worker but `except` (a worker id) that `keys` moved. */
  constructor(announce: (keys: readonly string[], except: number) => void, options: MemoryStoreOptions = {}) {
    this.#announce = announce
    this.#store = new MemoryAffinityStore(options)
  }

  /** The handlers for one worker's channel. */
  handlersFor(workerId: number): OpHandlers<StoreOps> {
    const store = this.#store
    return {
      'store.get': ({ key }) => store.get(key) ?? null,
      'store.claim': ({ key, endpointId, ttlMs }) => store.claim(key, endpointId, ttlMs),
      'store.rebind': ({ key, endpointId, ttlMs, expectedOld }) => {
        const before = store.get(key)
        const after = store.rebind(key, endpointId, ttlMs, expectedOld)
        if (before !== undefined && before.endpointId !== after.endpointId) this.#announce([key], workerId)
        return after
      },
      'store.counts': ({ scope }) => [...store.sessionCounts(scope)],
      'store.refresh': (refreshes) => {
        for (const [key, ttlMs] of refreshes) store.refresh(key, ttlMs)
        return null
      },
      'store.touch': (touches) => {
        for (const [scope, sessionId, endpointId, ttlMs] of touches) store.touchSession(scope, sessionId, endpointId, ttlMs)
        return null
      },
    }
  }

  /** Drops expired bindings and sessions now (also runs every second on its own). */
  sweep(): void {
    this.#store.sweep()
  }

  close(): Promise<void> {
    return this.#store.close()
  }
}
