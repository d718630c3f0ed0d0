/**
 * @module The supervisor's admin API backend: asks every worker and merges the answers.
 *
 * `/pools` sums the workers' counters (and their route rules' requests, merge-rules.ts); endpoint actions reach every worker and are answered once all
 * applied them (and are replayed to a worker that restarts later); `/readyz` is ready when every
 * worker is; `/metrics` aggregates the workers' registries with prom-client's AggregatorRegistry
 * (counters and amounts summed, states by `max`, each metric's `aggregator`) and adds the supervisor's own.
 *
 * The registries travel over Latch's own channel (`AggregatorRegistry.aggregate`), not prom-client's
 * `clusterMetrics()`: that one asks every forked worker, including one still starting (after a crash)
 * that has no listener yet and never answers, so each scrape would stall for 5 s and fail.
 */
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client'
import { AdminError, ADMIN_ERRORS, type AdminErrorCode } from '../admin/admin-error.js'
import type { AdminContext, MetricsSource } from '../admin/admin-routes.js'
import type { EndpointActionRequest, EndpointActionResult } from '../admin/endpoint-actions.js'
import type { StoreStatus } from '../admin/overview.js'
import type { CheckOutcome } from '../admin/readiness.js'
import { sumCounters } from '../observability/pool-counters.js'
import { reloadCounter, storeEvictionCounter } from '../observability/metrics.js'
import type { EvictionTotals } from '../stores/eviction-report.js'
import { mergePools } from './merge-pools.js'
import { mergeRules } from './merge-rules.js'
import type { LiveWorker, Supervisor } from './supervisor.js'

/** How long the admin API waits for a worker's answer. */
const ANSWER_TIMEOUT_MS = 5000

/** Fans admin calls out to the workers. */
export class ClusterAdmin implements MetricsSource {
  readonly #supervisor: Supervisor
  readonly #own = new Registry()
  readonly #restarts: Counter
  readonly #reloads: Counter<'result'>
  /** Actions applied so far, the latest per endpoint, in order: replayed to restarted workers. */
  readonly #actions = new Map<string, EndpointActionRequest>()

  /** `evictions`: what the supervisor's memory store dropped (undefined with a Redis store). */
  constructor(supervisor: Supervisor, evictions?: EvictionTotals) {
    this.#supervisor = supervisor
    const registers = [this.#own]
    if (evictions !== undefined) storeEvictionCounter(this.#own, evictions)
    new Gauge({ name: 'latch_workers', help: 'Worker processes by state: serving, or missing (starting or restarting after a crash).', labelNames: ['state'], registers, collect() {
      this.set({ state: 'serving' }, supervisor.live.length)
      this.set({ state: 'missing' }, supervisor.missing.length)
    } })
    this.#restarts = new Counter({ name: 'latch_worker_restarts_total', help: 'Worker processes restarted after they exited unexpectedly.', registers })
    this.#reloads = reloadCounter(this.#own)
  }

  get contentType(): string {
    return this.#own.contentType
  }

  /** The workers' metrics, aggregated, then the supervisor's own. */
  async scrape(): Promise<string> {
    const workers = this.#supervisor.live
    const registries = await Promise.all(workers.map((worker) => ask(worker, () => worker.rpc.request('metrics', null, ANSWER_TIMEOUT_MS))))
    return AggregatorRegistry.aggregate([...registries, await this.#own.getMetricsAsJSON()]).metrics()
  }

  workerRestarted(): void {
    this.#restarts.inc()
  }

  configReloaded(ok: boolean): void {
    this.#reloads.inc({ result: ok ? 'success' : 'failure' })
  }

  /** The actions a (re)starting worker replays. */
  get actions(): EndpointActionRequest[] {
    return [...this.#actions.values()]
  }

  /** The pool parts of the admin context. */
  readonly pools: AdminContext['pools'] = async () => {
    const workers = this.#supervisor.live
    const snapshots = await Promise.all(workers.map((worker) => ask(worker, () => worker.rpc.request('pools', null, ANSWER_TIMEOUT_MS))))
    return mergePools(snapshots, workers.map((worker) => worker.slot))
  }

  /** The workers' route-rule reports, merged (`GET /pools` `rules`). */
  readonly rules: NonNullable<AdminContext['rules']> = async () => {
    const workers = this.#supervisor.live
    return mergeRules(await Promise.all(workers.map((worker) => ask(worker, () => worker.rpc.request('rules', null, ANSWER_TIMEOUT_MS)))))
  }

  readonly endpointAction: AdminContext['endpointAction'] = async (request) => {
    const workers = this.#supervisor.live
    const settled = await Promise.allSettled(workers.map((worker) => ask(worker, () => worker.rpc.request('action', request, ANSWER_TIMEOUT_MS))))
    const results: EndpointActionResult[] = []
    for (const outcome of settled) {
      if (outcome.status === 'rejected') throw outcome.reason
      results.push(outcome.value)
    }
    const first = results[0]
    if (first === undefined) throw new AdminError('ERR_ADMIN_INTERNAL', 'no worker is serving right now; try again')
    const key = `${first.pool}\0${first.endpoint.id}`
    this.#actions.delete(key)
    this.#actions.set(key, request)
    const [pool] = mergePools(results.map((result) => [{ name: result.pool, panic: false, retries: 0, queue: { length: 0, rejectedFull: 0, timedOut: 0 }, endpoints: [result.endpoint] }]), workers.map((worker) => worker.slot))
    return { ...first, endpoint: pool?.endpoints[0] ?? first.endpoint }
  }

  /** The workers' per-pool counters, summed (sampled into `GET /history`). */
  readonly counters: NonNullable<AdminContext['counters']> = async () => {
    const workers = this.#supervisor.live
    return sumCounters(await Promise.all(workers.map((worker) => ask(worker, () => worker.rpc.request('counters', null, ANSWER_TIMEOUT_MS)))))
  }

  /** The Redis store as the first serving worker sees it (each worker has its own connection). */
  async redisStatus(): Promise<StoreStatus | undefined> {
    const worker = this.#supervisor.live[0]
    return worker === undefined ? undefined : ask(worker, () => worker.rpc.request('store', null, ANSWER_TIMEOUT_MS))
  }

  /** The `workers` readiness check: every slot has a serving worker, and each of them is ready. */
  readonly workersReady = async (): Promise<CheckOutcome> => {
    const missing = this.#supervisor.missing
    const workers = this.#supervisor.live
    const reports = await Promise.allSettled(workers.map((worker) => worker.rpc.request('readiness', null, ANSWER_TIMEOUT_MS)))
    const problems = missing.map((slot) => `worker ${slot}: not serving (starting or restarting)`)
    reports.forEach((report, index) => {
      const slot = (workers[index] as LiveWorker).slot
      if (report.status === 'rejected') problems.push(`worker ${slot}: ${(report.reason as Error).message}`)
      else if (!report.value.ready) {
        const failed = Object.entries(report.value.details).filter(([, outcome]) => !outcome.ok)
        problems.push(`worker ${slot}: ${failed.map(([name, outcome]) => `${name}: ${outcome.detail ?? 'failed'}`).join(', ')}`)
      }
    })
    const count = this.#supervisor.count
    return problems.length === 0 ? { ok: true, detail: `${count} of ${count} workers ready` } : { ok: false, detail: problems.join('; ') }
  }
}

/** Runs one worker call; a worker's admin error keeps its code, anything else names the worker. */
async function ask<T>(worker: LiveWorker, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && Object.hasOwn(ADMIN_ERRORS, code)) throw new AdminError(code as AdminErrorCode, (error as Error).message)
    throw new AdminError('ERR_ADMIN_INTERNAL', `worker ${worker.slot} did not answer: ${(error as Error).message}`)
  }
}
