/**
 * @module Stall detection: stop sending new requests to an endpoint that answers nothing while
 * requests wait on it (process stopped, deadlocked, or accepting and never answering).
 *
 * Timeouts catch such an endpoint only after `responseHeaders` (30 s), and meanwhile it keeps
 * taking new requests until its slots are full. Here an endpoint with requests fully sent and
 * waiting, and no response head for `stallTimeout`, is `stalled`: not chosen for new requests (panic
 * rules apply as for ejections). Requests already sent keep their own timeouts; their timeouts
 * count as failures and eject it as usual. It is back as soon as any response head arrives from it
 * (Endpoint.responded), or once nothing waits on it any more. Being cheap to leave, a stall may be
 * declared early: a lone slow request on an idle endpoint only sends new requests elsewhere for a
 * while. Stalls count toward `maxEjectedPercent`, so they never take a one-endpoint pool out.
 *
 * The request path only counts (awaiting, responses); a timer per pool samples the counts every
 * eighth of `stallTimeout`, so a stall is declared within about 1⅛ × stallTimeout.
 */
import type { PassiveHealthConfig } from '../config/schema.js'
import type { Endpoint } from '../upstream/endpoint.js'

/** What the detector last saw of one endpoint. */
interface Sample {
  responses: number
  /** Since when (performance.now()) requests wait on it without any response head arriving. */
  quietSince: number
}

/** Per-pool stall detection; a no-op when `stallTimeout` is 0 or passive health is disabled. */
export class StallDetector {
  readonly #config: PassiveHealthConfig
  readonly #endpoints: () => readonly Endpoint[]
  readonly #samples = new WeakMap<Endpoint, Sample>()
  readonly #timer: NodeJS.Timeout | undefined

  constructor(config: PassiveHealthConfig, endpoints: () => readonly Endpoint[]) {
    this.#config = config
    this.#endpoints = endpoints
    if (!config.enabled || config.stallTimeout === 0) return
    this.#timer = setInterval(() => this.check(performance.now()), Math.max(10, config.stallTimeout / 8))
    this.#timer.unref()
  }

  /** Samples every endpoint at `now` (performance.now()); declares and ends stalls. */
  check(now: number): void {
    const endpoints = this.#endpoints()
    for (const endpoint of endpoints) {
      const sample = this.#samples.get(endpoint)
      if (sample === undefined) {
        this.#samples.set(endpoint, { responses: endpoint.responses, quietSince: now })
        continue
      }
      if (endpoint.awaiting === 0 || endpoint.responses !== sample.responses) {
        sample.responses = endpoint.responses
        sample.quietSince = now
        // Its waiting requests ended (timed out, or the clients left): let new requests find out.
        if (endpoint.stalled) endpoint.setStalled(false, 'passive health: no request waiting on it any more')
        continue
      }
      if (endpoint.stalled || now - sample.quietSince < this.#config.stallTimeout || !this.#mayTakeOut(endpoints)) continue
      endpoint.setStalled(true, `passive health: no response for ${this.#config.stallTimeout} ms while ${endpoint.awaiting} requests wait`)
    }
  }

  stop(): void {
    clearInterval(this.#timer)
  }

  /** Whether one more endpoint may leave: stalled and ejected ones stay within maxEjectedPercent. */
  #mayTakeOut(endpoints: readonly Endpoint[]): boolean {
    let out = 0
    for (const endpoint of endpoints) if (endpoint.stalled || endpoint.ejectedUntil !== 0) out++
    return (out + 1) * 100 <= endpoints.length * this.#config.maxEjectedPercent
  }
}
