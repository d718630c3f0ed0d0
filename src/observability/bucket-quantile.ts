/**
 * @module Quantiles from histogram bucket counts, as Prometheus' `histogram_quantile` computes them.
 */

/**
 * The `q` quantile (0…1) of the observations counted in `cumulative` (cumulative counts per upper
 * bound `bounds`, then +Inf as the last entry), interpolated linearly inside the bucket it falls in.
 * NaN when nothing was observed; the highest finite bound when it falls in the +Inf bucket.
 */
export function bucketQuantile(q: number, bounds: readonly number[], cumulative: ArrayLike<number>): number {
  const total = cumulative[bounds.length] ?? 0
  if (!(total > 0)) return Number.NaN
  const rank = q * total
  for (let i = 0; i < bounds.length; i++) {
    const count = cumulative[i] as number
    if (count < rank) continue
    const lower = i === 0 ? 0 : (bounds[i - 1] as number)
    const below = i === 0 ? 0 : (cumulative[i - 1] as number)
    const upper = bounds[i] as number
    return count === below ? upper : lower + ((upper - lower) * (rank - below)) / (count - below)
  }
  return bounds[bounds.length - 1] ?? Number.NaN
}
