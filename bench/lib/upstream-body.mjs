/**
 * @module The upstreams' response body: 100 bytes that differ between upstreams only in the upstream's name.
 */

/** The 100-byte body upstream `id` (`u1`, `u2`, …) answers with. */
export function upstreamBody(id) {
  const head = `hello from upstream ${id}; this body is padded to one hundred bytes `
  return Buffer.from(`${head}${'.'.repeat(99 - head.length)}\n`)
}
