/**
 * @module The 32-bit string hash endpoints precompute of their id; hash affinity scores keys with the
 * same function (affinity/rendezvous.ts), so it lives here, below both.
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
