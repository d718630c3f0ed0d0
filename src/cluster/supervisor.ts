/**
 * @module The supervisor's worker pool (node:cluster): forks N workers that share the traffic
 * listeners, restarts crashed ones with backoff, gives up on a crash loop, and stops them all.
 *
 * Scheduling is node:cluster's round-robin (SCHED_RR, the default except on Windows): the supervisor
 * accepts connections and hands them to workers in turn, which spreads keep-alive clients evenly;
 * with the kernel's choice (SCHED_NONE) a few busy workers tend to take most connections.
 */
import cluster, { type Worker } from 'node:cluster'
import { StartupError } from '../errors/startup-error.js'
import type { ListenAddress } from '../net/address.js'
import type { Logger } from '../observability/logger.js'
import { WORKER_SLOT_ENV, type SupervisorOps, type WorkerOps } from './protocol.js'
import { RpcChannel, type Handlers } from './rpc.js'

/** Crashes of one slot within this window count towards a crash loop. */
const CRASH_WINDOW_MS = 60_000
/** This many crashes of one slot within the window: give up. */
const CRASH_LIMIT = 5
const FIRST_BACKOFF_MS = 100
const MAX_BACKOFF_MS = 5000

/** A worker connected to the supervisor. */
export interface LiveWorker {
  readonly slot: number
  readonly worker: Worker
  readonly rpc: RpcChannel<WorkerOps, SupervisorOps>
}

interface Slot {
  readonly number: number
  current: LiveWorker | undefined
  ready: boolean
  /** Times of recent crashes (within CRASH_WINDOW_MS). */
  crashes: number[]
  restartTimer: NodeJS.Timeout | undefined
}

/** What the supervisor needs from the primary. */
export interface SupervisorDeps {
  readonly count: number
  readonly logger: Logger
  /** The handlers of the workers' requests (store operations, hello); `ready` is handled here. */
  readonly handlers: (slot: number, workerId: number) => Handlers<SupervisorOps>
  /** A worker was restarted after a crash (metrics). */
  readonly onRestart: () => void
  /** A slot crashed CRASH_LIMIT times within CRASH_WINDOW_MS: Latch must stop. */
  readonly onCrashLoop: (message: string) => void
}

/** The worker processes and their lifecycle. */
export class Supervisor {
  readonly #deps: SupervisorDeps
  readonly #slots: Slot[]
  #stopping = false
  #started = false
  #startFailed: ((error: Error) => void) | undefined
  #allExited: (() => void) | undefined

  constructor(deps: SupervisorDeps) {
    this.#deps = deps
    this.#slots = Array.from({ length: deps.count }, (_, index) => ({ number: index + 1, current: undefined, ready: false, crashes: [], restartTimer: undefined }))
    cluster.schedulingPolicy = cluster.SCHED_RR
  }

  /** Forks every worker; resolves with the traffic addresses once all serve, rejects if one fails first. */
  start(): Promise<readonly ListenAddress[]> {
    return new Promise((resolve, reject) => {
      let pending = this.#slots.length
      let addresses: readonly ListenAddress[] = []
      this.#startFailed = reject
      for (const slot of this.#slots) {
        this.#fork(slot, (bound) => {
          addresses = bound
          if (--pending === 0 && !this.#stopping) {
            this.#started = true
            resolve(addresses)
          }
        })
      }
    })
  }

  /** Workers serving now (a restarting slot is missing). */
  get live(): LiveWorker[] {
    return this.#slots.flatMap((slot) => (slot.ready && slot.current !== undefined ? [slot.current] : []))
  }

  /** Slots without a serving worker (restarting, or not started yet). */
  get missing(): number[] {
    return this.#slots.filter((slot) => !slot.ready).map((slot) => slot.number)
  }

  /** Every connected worker, ready or not (for notes that must reach all, like store invalidations). */
  get connected(): LiveWorker[] {
    return this.#slots.flatMap((slot) => (slot.current === undefined ? [] : [slot.current]))
  }

  get count(): number {
    return this.#slots.length
  }

  /**
   * Tells every worker to stop (`now`: exit at once) and resolves once all have exited; workers still
   * running after `deadlineMs` are killed.
   */
  stop(now: boolean, deadlineMs: number): Promise<void> {
    this.#stopping = true
    for (const slot of this.#slots) clearTimeout(slot.restartTimer)
    const running = this.connected
    if (running.length === 0) return Promise.resolve()
    const exited = new Promise<void>((resolve) => (this.#allExited = resolve))
    for (const { rpc } of running) rpc.notify('shutdown', { now })
    const timer = setTimeout(() => {
      for (const { worker, slot } of this.connected) {
        this.#deps.logger.error({ worker: slot, pid: worker.process.pid }, 'worker did not exit in time: killing it')
        worker.process.kill('SIGKILL')
      }
    }, deadlineMs)
    return exited.finally(() => clearTimeout(timer))
  }

  #fork(slot: Slot, onReady: (addresses: readonly ListenAddress[]) => void): void {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.number) })
    const handlers: Handlers<SupervisorOps> = {
      ...this.#deps.handlers(slot.number, worker.id),
      ready: ({ addresses }) => {
        slot.ready = true
        // Forked just before a stop: it may have missed the shutdown note (no listener yet).
        if (this.#stopping) rpc.notify('shutdown', { now: false })
        else onReady(addresses)
        return null
      },
    }
    const rpc = new RpcChannel<WorkerOps, SupervisorOps>((message) => worker.send(message, undefined, () => undefined), handlers)
    slot.current = { slot: slot.number, worker, rpc }
    worker.on('message', (message: unknown) => rpc.receive(message))
    // A worker killed mid-send makes the channel emit errors; its exit is what matters.
    worker.on('error', () => undefined)
    worker.on('exit', (code, signal) => {
      rpc.close(`worker ${slot.number} exited`)
      slot.current = undefined
      slot.ready = false
      this.#exited(slot, code, signal)
    })
  }

  #exited(slot: Slot, code: number | null, signal: string | null): void {
    const { logger } = this.#deps
    if (this.#stopping) {
      logger.info({ worker: slot.number, code, signal }, 'worker exited')
      if (this.connected.length === 0) this.#allExited?.()
      return
    }
    const how = signal === null ? `exit code ${code}` : `signal ${signal}`
    if (!this.#started) {
      this.#startFailed?.(new StartupError('WORKER_FAILED', `worker ${slot.number} exited during start-up (${how}); its log lines above say why`))
      return
    }
    const now = Date.now()
    slot.crashes = [...slot.crashes.filter((at) => now - at < CRASH_WINDOW_MS), now]
    if (slot.crashes.length >= CRASH_LIMIT) {
      this.#deps.onCrashLoop(`worker ${slot.number} crashed ${slot.crashes.length} times within ${CRASH_WINDOW_MS / 1000} s (last: ${how}) — giving up; fix the cause (log lines above) and start Latch again`)
      return
    }
    const delay = Math.min(FIRST_BACKOFF_MS * 2 ** (slot.crashes.length - 1), MAX_BACKOFF_MS)
    logger.error({ worker: slot.number, code, signal, restartInMs: delay, crashesInWindow: slot.crashes.length }, 'worker exited unexpectedly: restarting it')
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined
      if (this.#stopping) return
      this.#deps.onRestart()
      this.#fork(slot, () => logger.info({ worker: slot.number }, 'worker restarted and serving'))
    }, delay)
  }
}
