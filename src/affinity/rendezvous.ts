/**
 * @module Rendezvous (highest-random-weight) hashing for stateless `hash` affinity.
 *
 * Chosen over a ring or Maglev because it is exactly minimal: adding an endpoint moves only the keys
 * that now score highest on it (~1/N), removing one moves only its own keys, and replicas agree
 * without sharing state as long as they see the same endpoint ids (Caddy uses it for the same
 * reason). Cost is O(N) cheap integer mixes per request; weights use the logarithmic method
 * (score = -weight / ln(u)), which keeps key shares proportional to weights.
 */
import { fmix32 } from '../upstream/id-hash.js'

/** The score of an endpoint (its id hash and weight) for a key hash; the highest score wins. */
export function rendezvousScore(keyHash: number, endpointHash: number, weight: number): number {
  const mixed = fmix32((keyHash ^ Math.imul(endpointHash, 0x9e3779b1)) >>> 0)
  const unit = (mixed + 0.5) / 4294967296
  return -weight / Math.log(unit)
}
