/**
 * @module The IPC operations of the worker store (ipc-store.ts) and its supervisor side
 * (ipc-store-server.ts). They belong to the store; cluster/protocol.ts adds them to the operations
 * the supervisor and its workers exchange.
 */
import type { Binding } from './affinity-store.js'
import type { Touch } from './live-session-book.js'

/** Store operations served by the supervisor. */
export type StoreOps = {
  'store.get': { args: { readonly key: string }; result: Binding | null }
  'store.claim': { args: { readonly key: string; readonly endpointId: string; readonly ttlMs: number }; result: Binding }
  'store.rebind': { args: { readonly key: string; readonly endpointId: string; readonly ttlMs: number; readonly expectedOld: string }; result: Binding }
  'store.counts': { args: { readonly scope: string }; result: readonly (readonly [string, number])[] }
  /** Note: extend bindings. */
  'store.refresh': { args: readonly (readonly [key: string, ttlMs: number])[]; result: null }
  /** Note: live-session touches, batched. */
  'store.touch': { args: readonly Touch[]; result: null }
}

/** Store operations served by a worker. */
export type StoreWorkerOps = {
  /** Note: these bindings moved (a rebind elsewhere); drop them from the local cache. */
  'store.invalidate': { args: readonly string[]; result: null }
}

/**
 * What answers each operation of `Ops`. The same shape as cluster/rpc.ts's `Handlers` (which it is
 * assignable to), stated here so that the store does not depend on the cluster.
 */
export type OpHandlers<Ops extends Record<string, { readonly args: unknown; readonly result: unknown }>> = {
  readonly [Op in keyof Ops]: (args: Ops[Op]['args']) => Ops[Op]['result'] | Promise<Ops[Op]['result']>
}
