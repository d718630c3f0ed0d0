/**
 * @module Rendezvous (highest-random-weight) hashing for stateless `hash` affinity.
 *
 * Chosen over a ring or Maglev because it is exactly minimal: adding an endpoint moves only the keys
 * that now score highest on it (~1/N), removing one moves only its own keys, and replicas agree
 * without sharing state as long as they see the same endpoint ids (Caddy uses it for the same
 * reason). Cost is O(N) cheap integer mixes per request; weights use the logarithmic method
 * (score = -weight / ln(u)), which keeps key shares proportional to weights.
 */

/** 32-bit FNV-1a of a string, finished with murmur3's fmix32 for avalanche. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return fmix32(hash)
}

/** murmur3's 32-bit finaliser. */
export function fmix32(input: number): number {
  let hash = input
  hash ^= hash >>> 16
  hash = Math.imul(hash, 0x85ebca6b)
  hash ^= hash >>> 13
  hash = Math.imul(hash, 0xc2b2ae35)
  hash ^= hash >>> 16
  return hash >>> 0
}

/** The score of an endpoint (its id hash and weight) for a key hash; the highest score wins. */
export function rendezvousScore(keyHash: number, endpointHash: number, weight: number): number {
  const mixed = fmix32((keyHash ^ Math.imul(endpointHash, 0x9e3779b1)) >>> 0)
  const unit = (mixed + 0.5) / 4294967296
  return -weight / Math.log(unit)
}
