/**
 * IpcAffinityStore in two "workers" against one IpcStoreServer, over real RpcChannels whose messages
 * are delivered asynchronously and in order (as over the cluster IPC channel), through JSON.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { SupervisorOps, WorkerOps } from '../../../src/cluster/protocol.js'
import { RpcChannel, type RpcMessage } from '../../../src/cluster/rpc.js'
import { IpcAffinityStore } from '../../../src/stores/ipc-store.js'
import { IpcStoreServer } from '../../../src/stores/ipc-store-server.js'

function deliver(to: () => { receive(message: unknown): boolean }): (message: RpcMessage) => void {
  return (message) => {
    const copy = JSON.parse(JSON.stringify(message)) as unknown
    setImmediate(() => to().receive(copy))
  }
}

describe('IPC affinity store', () => {
  const stores: IpcAffinityStore[] = []
  let server: IpcStoreServer

  function setUp(workers: number): IpcAffinityStore[] {
    const sides: RpcChannel<WorkerOps, SupervisorOps>[] = []
    server = new IpcStoreServer((keys, except) => {
      sides.forEach((side, index) => {
        if (index + 1 !== except) side.notify('store.invalidate', keys)
      })
    })
    for (let id = 1; id <= workers; id++) {
      let store!: IpcAffinityStore
      const worker: RpcChannel<SupervisorOps, WorkerOps> = new RpcChannel<SupervisorOps, WorkerOps>(deliver(() => supervisor), {
        'store.invalidate': (keys) => {
          store.invalidate(keys)
          return null
        },
      })
      const supervisor: RpcChannel<WorkerOps, SupervisorOps> = new RpcChannel<WorkerOps, SupervisorOps>(deliver(() => worker), server.handlersFor(id))
      sides.push(supervisor)
      store = new IpcAffinityStore(worker)
      stores.push(store)
    }
    return stores.slice(-workers)
  }

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()))
    await server.close()
  })

  it('first binding wins across workers; a known binding is then answered without a round trip', async () => {
    const [a, b] = setUp(2) as [IpcAffinityStore, IpcAffinityStore]
    const [first, second] = await Promise.all([a.claim('p:ip:1', 'e1', 60_000), b.claim('p:ip:1', 'e2', 60_000)])
    expect(first.endpointId).toBe('e1')
    expect(second.endpointId).toBe('e1')
    expect(await a.get('p:ip:1')).toMatchObject({ endpointId: 'e1' })
    // Cached: synchronous, no promise.
    expect(b.get('p:ip:1')).toMatchObject({ endpointId: 'e1' })
    expect(await b.get('p:ip:none')).toBeUndefined()
  })

  it('a rebind in one worker invalidates the binding cached by the others; compare-and-set holds', async () => {
    const [a, b] = setUp(2) as [IpcAffinityStore, IpcAffinityStore]
    await a.claim('k', 'e1', 60_000)
    expect(await b.get('k')).toMatchObject({ endpointId: 'e1' })
    expect((await a.rebind('k', 'e2', 60_000, 'e1')).endpointId).toBe('e2')
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await b.get('k')).toMatchObject({ endpointId: 'e2' })
    // B saw e1 fail too, but A moved it first: B follows A instead of moving it again.
    expect((await b.rebind('k', 'e3', 60_000, 'e1')).endpointId).toBe('e2')
  })

  it('an expired binding is not served from the cache', async () => {
    const [a] = setUp(1) as [IpcAffinityStore]
    await a.claim('short', 'e1', 30)
    expect(a.get('short')).toMatchObject({ endpointId: 'e1' })
    await new Promise((resolve) => setTimeout(resolve, 40))
    expect(await a.get('short')).toBeUndefined()
  })

  it('counts live sessions of every worker together (fetched at most once a second)', async () => {
    const [a, b] = setUp(2) as [IpcAffinityStore, IpcAffinityStore]
    a.touchSession('p:cookie', 's1', 'e1', 60_000)
    b.touchSession('p:cookie', 's2', 'e1', 60_000)
    b.touchSession('p:cookie', 's3', 'e2', 60_000)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(a.sessionCounts('p:cookie').size).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(Object.fromEntries(a.sessionCounts('p:cookie'))).toEqual({ e1: 2, e2: 1 })
  })
})
