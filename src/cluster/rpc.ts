/**
 * @module Requests, replies and one-way notes between the supervisor and a worker, over the cluster
 * IPC channel (JSON). Both ends use the same class; messages that are not Latch's (prom-client's
 * metric requests, for instance) are left alone.
 */

/** Operations one side serves: each names its argument and its result. */
export type OpTable = Record<string, { readonly args: unknown; readonly result: unknown }>

/** Latch's IPC messages; `latch` tells them apart from other users of the channel. */
export type RpcMessage =
  | { readonly latch: 'req'; readonly id: number; readonly op: string; readonly args: unknown }
  | { readonly latch: 'res'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly latch: 'res'; readonly id: number; readonly ok: false; readonly code: string; readonly message: string }
  | { readonly latch: 'note'; readonly op: string; readonly args: unknown }

/** A failure reported by the other side (its error's `code` and message) or by the channel. */
export class RemoteError extends Error {
  readonly code: string

  constructor(code: string, message: string) {
    super(message)
    this.name = 'RemoteError'
    this.code = code
  }
}

/** What this side answers: requests (with a result) and notes (without). */
export type Handlers<Serves extends OpTable> = {
  readonly [Op in keyof Serves]?: (args: Serves[Op]['args']) => Serves[Op]['result'] | Promise<Serves[Op]['result']>
}

interface Pending {
  readonly resolve: (value: unknown) => void
  readonly reject: (error: Error) => void
  readonly timer: NodeJS.Timeout | undefined
}

/** One end of a channel: `Calls` are the other side's operations, `Serves` this side's. */
export class RpcChannel<Calls extends OpTable, Serves extends OpTable> {
  readonly #send: (message: RpcMessage) => void
  readonly #handlers: Handlers<Serves>
  readonly #pending = new Map<number, Pending>()
  #nextId = 1
  #closed: string | undefined

  constructor(send: (message: RpcMessage) => void, handlers: Handlers<Serves>) {
    this.#send = send
    this.#handlers = handlers
  }

  /** Calls `op` on the other side; rejects with RemoteError on failure, timeout or a closed channel. */
  request<Op extends keyof Calls & string>(op: Op, args: Calls[Op]['args'], timeoutMs?: number): Promise<Calls[Op]['result']> {
    if (this.#closed !== undefined) return Promise.reject(new RemoteError('IPC_CLOSED', this.#closed))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
        this.#pending.delete(id)
        reject(new RemoteError('IPC_TIMEOUT', `no answer to "${op}" within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer })
      this.#post({ latch: 'req', id, op, args }, id)
    })
  }

  /** Tells the other side something; no answer. */
  notify<Op extends keyof Calls & string>(op: Op, args: Calls[Op]['args']): void {
    if (this.#closed === undefined) this.#post({ latch: 'note', op, args })
  }

  /** Handles an incoming message; returns false when it is not one of Latch's. */
  receive(message: unknown): boolean {
    if (!isRpcMessage(message)) return false
    if (message.latch === 'res') {
      const pending = this.#pending.get(message.id)
      if (pending === undefined) return true
      this.#pending.delete(message.id)
      clearTimeout(pending.timer)
      if (message.ok) pending.resolve(message.value)
      else pending.reject(new RemoteError(message.code, message.message))
      return true
    }
    const handler = this.#handlers[message.op] as ((args: unknown) => unknown) | undefined
    if (message.latch === 'note') {
      handler?.(message.args)
      return true
    }
    const { id } = message
    if (handler === undefined) {
      this.#post({ latch: 'res', id, ok: false, code: 'IPC_UNKNOWN_OP', message: `unknown operation "${message.op}"` })
      return true
    }
    try {
      const result = handler(message.args)
      if (result instanceof Promise) result.then((value) => this.#reply(id, value), (error: unknown) => this.#fail(id, error))
      else this.#reply(id, result)
    } catch (error) {
      this.#fail(id, error)
    }
    return true
  }

  /** The channel is gone: every pending request fails, later ones fail at once. */
  close(reason: string): void {
    this.#closed = reason
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer)
      this.#pending.delete(id)
      pending.reject(new RemoteError('IPC_CLOSED', reason))
    }
  }

  #reply(id: number, value: unknown): void {
    if (this.#closed === undefined) this.#post({ latch: 'res', id, ok: true, value: value ?? null })
  }

  #fail(id: number, error: unknown): void {
    const code = typeof (error as { code?: unknown }).code === 'string' ? (error as { code: string }).code : 'IPC_HANDLER_FAILED'
    if (this.#closed === undefined) this.#post({ latch: 'res', id, ok: false, code, message: (error as Error).message ?? String(error) })
  }

  /** Sends; a channel that broke under us (the other process died) is closed, not thrown. */
  #post(message: RpcMessage, id?: number): void {
    try {
      this.#send(message)
    } catch (error) {
      this.close(`IPC channel closed: ${(error as Error).message}`)
      if (id !== undefined) this.#pending.get(id)?.reject(new RemoteError('IPC_CLOSED', (error as Error).message))
    }
  }
}

function isRpcMessage(message: unknown): message is RpcMessage {
  const latch = (message as { latch?: unknown } | null)?.latch
  return latch === 'req' || latch === 'res' || latch === 'note'
}
