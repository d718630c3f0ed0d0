/**
 * @module Real endpoints for policy tests (their undici pools are created but never connect).
 */
import { Endpoint } from '../../../src/upstream/endpoint.js'
import { poolConfig } from '../upstream/pool-fixtures.js'

const made: Endpoint[] = []

/** Endpoints `127.0.0.1:20001…` with the given weights. */
export function endpoints(...weights: number[]): Endpoint[] {
  const config = poolConfig({ endpoints: ['http://127.0.0.1:1'] })
  const created = weights.map((weight, index) => new Endpoint({ url: `http://127.0.0.1:${20_001 + index}`, weight }, config, 'static', false))
  made.push(...created)
  return created
}

/** Closes every endpoint made so far (afterEach). */
export async function closeEndpoints(): Promise<void> {
  await Promise.all(made.splice(0).map((endpoint) => endpoint.close()))
}

/** How often each endpoint was picked in `picks`, in `of` order. */
export function tally(of: readonly Endpoint[], picks: readonly (Endpoint | undefined)[]): number[] {
  return of.map((endpoint) => picks.filter((picked) => picked === endpoint).length)
}
