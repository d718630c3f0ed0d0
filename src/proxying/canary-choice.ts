/**
 * @module ingress-nginx's canary conditions (balancer.lua `route_to_alternative_balancer`): the
 * header, then the cookie; what neither decides falls to the weights.
 *
 * - `canary-by-header` with `canary-by-header-value`: that exact value → canary; anything else falls
 *   through. With `canary-by-header-pattern` instead: a match → canary; else falls through. With
 *   neither: `always` → canary, `never` → main, anything else falls through.
 * - `canary-by-cookie`: `always` → canary, `never` → main, anything else falls through.
 */
import { readCookie } from '../affinity/cookie-jar.js'
import type { AffinityRequest } from '../affinity/session-affinity.js'
import { headerValue } from '../affinity/token-affinity.js'
import type { CanaryConditions } from '../routing/route-action.js'

/** Backend indexes of a merged canary action: [main, canary]. */
export const MAIN = 0
export const CANARY = 1

export class CanaryChoice {
  readonly #conditions: CanaryConditions

  constructor(conditions: CanaryConditions) {
    this.#conditions = conditions
  }

  /** MAIN or CANARY when a condition decides, else -1 (the weights decide). */
  decide(request: AffinityRequest): number {
    const { header, headerValue: exact, headerPattern, cookie } = this.#conditions
    if (header !== undefined) {
      const value = headerValue(request, header)
      if (value !== undefined) {
        if (exact !== undefined) {
          if (value === exact) return CANARY
        } else if (headerPattern !== undefined) {
          if (headerPattern.test(value)) return CANARY
        } else if (value === 'always') return CANARY
        else if (value === 'never') return MAIN
      }
    }
    if (cookie !== undefined) {
      const value = readCookie(request.cookieHeader, cookie).value
      if (value === 'always') return CANARY
      if (value === 'never') return MAIN
    }
    return -1
  }
}
