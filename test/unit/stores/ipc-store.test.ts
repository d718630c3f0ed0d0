/**
 * IpcAffinityStore in "workers" against one IpcStoreServer, over real RpcChannels whose messages are
 * delivered asynchronously and in order (as over the cluster IPC channel), through JSON: first the
 * AffinityStore contract (two workers, one supervisor), then what is particular to the IPC store.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { RpcChannel, type RpcMessage } from '../../../src/cluster/rpc.js'
import type { AffinityStore } from '../../../src/stores/affinity-store.js'
import type { StoreOps, StoreWorkerOps } from '../../../src/stores/ipc-store-protocol.js'
import { IpcAffinityStore } from '../../../src/stores/ipc-store.js'
import { IpcStoreServer } from '../../../src/stores/ipc-store-server.js'
import { affinityStoreContract } from './affinity-store.contract.js'

function deliver(to: () => { receive(message: unknown): boolean }): (message: RpcMessage) => void {
  return (message) => {
    const copy = JSON.parse(JSON.stringify(message)) as unknown
    setImmediate(() => to().receive(copy))
  }
}

interface Setup {
  readonly server: IpcStoreServer
  readonly workers: IpcAffinityStore[]
}

/** One supervisor side and `count` worker stores, each on its own channel. */
function connect(count: number): Setup {
  const sides: RpcChannel<StoreWorkerOps, StoreOps>[] = []
  const server = new IpcStoreServer((keys, except) => {
    sides.forEach((side, index) => {
      if (index + 1 !== except) side.notify('store.invalidate', keys)
    })
  })
  const workers: IpcAffinityStore[] = []
  for (let id = 1; id <= count; id++) {
    let store!: IpcAffinityStore
    const worker: RpcChannel<StoreOps, StoreWorkerOps> = new RpcChannel<StoreOps, StoreWorkerOps>(deliver(() => supervisor), {
      'store.invalidate': (keys) => {
        store.invalidate(keys)
        return null
      },
    })
    const supervisor: RpcChannel<StoreWorkerOps, StoreOps> = new RpcChannel<StoreWorkerOps, StoreOps>(deliver(() => worker), server.handlersFor(id))
    sides.push(supervisor)
    store = new IpcAffinityStore(worker)
    workers.push(store)
  }
  return { server, workers }
}

async function disconnect({ server, workers }: Setup): Promise<void> {
  await Promise.all(workers.map((store) => store.close()))
  await server.close()
}

const contractSetups: Setup[] = []
afterAll(async () => {
  await Promise.all(contractSetups.map(disconnect))
})

affinityStoreContract(
  'memory',
  async () => {
    const setup = connect(2)
    contractSetups.push(setup)
    const [a, b] = setup.workers as [IpcAffinityStore, IpcAffinityStore]
    return {
      a,
      b,
      async counts(store: AffinityStore, scope: string) {
        // Let the batched touches reach the supervisor, whose memory store drops expired sessions on its sweep.
        await new Promise((resolve) => setTimeout(resolve, 50))
        setup.server.sweep()
        return new Map(await (store as IpcAffinityStore).refreshCounts(scope))
      },
    }
  },
  'ipc (workers and supervisor)',
)

describe('IPC affinity store', () => {
  let setup: Setup | undefined

  function setUp(workers: number): IpcAffinityStore[] {
    setup = connect(workers)
    return setup.workers
  }

  afterEach(async () => {
    if (setup !== undefined) await disconnect(setup)
    setup = undefined
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
