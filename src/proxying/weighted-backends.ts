/**
 * @module The weighted choice among a rule's backends: smooth weighted round-robin (nginx's), so a
 * 90/10 split sends one request in ten to the canary, evenly spread, never in bursts. Weight 0 =
 * none: such a backend only keeps the sessions already bound to it.
 */
import { smoothWeightedPick } from '../balancing/smooth-weighted-round-robin.js'

interface Slot {
  readonly index: number
  readonly weight: number
}

/** Smooth weighted choice of a backend index; -1 when every weight is 0. */
export class WeightedBackends {
  readonly #slots: readonly Slot[]
  readonly #scores = new WeakMap<Slot, number>()

  constructor(weights: readonly number[]) {
    this.#slots = weights.flatMap((weight, index) => (weight > 0 ? [{ index, weight }] : []))
  }

  next(): number {
    return smoothWeightedPick(this.#slots, this.#scores)?.index ?? -1
  }
}
