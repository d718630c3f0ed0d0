/**
 * @module How the load generator shapes requests (client addresses, cookie jars).
 *
 * A scenario names one shape. A shape has:
 * - `summary`: one line for the README and the JSON;
 * - `probeHeaders(i)`: headers of the i-th request of the sequential functional probe (before the load);
 * - `wrk`: the arguments of `wrk-shapes.lua` (after `--`): the shape's name there and its virtual clients;
 * - `autocannon(options)` (optional; `--loadgen autocannon` only): runs inside the autocannon worker process;
 *   returns `{ setupClient?, requests?, stats() }` in autocannon's own terms.
 *
 * wrk-shapes.lua counts responses per upstream and, for shaped requests, per virtual client ("broken":
 * responses from another upstream than the client's first), which reach the checks as `load.shapeStats`.
 */

/**
 * The request of the routing scenarios: it matches the last rule of the last route of the 50 × 10
 * HTTPRoute table (scenarios.mjs), path, header and query alike.
 */
export const ROUTED = { path: '/svc-49/v9/items?tier=gold', tenant: 't9' }

/** Virtual clients of the shaped requests (the peer harness's count). */
const CLIENTS = 1000

function clientIp(i) {
  return `10.${(i >> 8) & 255}.${i & 255}.1`
}

/** Every request shape by name. */
export const SHAPES = {
  plain: {
    summary: 'GET / with no extra headers; all connections alike',
    probeHeaders: () => ({}),
    wrk: ['plain', '1'],
    autocannon: () => ({ stats: () => undefined }),
  },
  xff: {
    summary: `GET / as ${CLIENTS} client addresses in turn (X-Forwarded-For 10.x.y.1, one client per request)`,
    probeHeaders: (i) => ({ 'x-forwarded-for': clientIp(i + 1), 'x-client': String(i + 1) }),
    wrk: ['xff', String(CLIENTS)],
    autocannon: () => {
      let next = 0
      return {
        requests: [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'x-forwarded-for': clientIp((next++ % CLIENTS) + 1) } }) }],
        stats: () => ({ clients: CLIENTS, sent: next }),
      }
    },
  },
  routed: {
    summary: `GET ${ROUTED.path} with X-Tenant: ${ROUTED.tenant} (the last rule of the HTTPRoute routing table); all connections alike`,
    path: ROUTED.path,
    probeHeaders: () => ({ 'x-tenant': ROUTED.tenant }),
    wrk: ['routed', '1', ROUTED.tenant],
    autocannon: () => ({ requests: [{ method: 'GET', path: ROUTED.path, headers: { 'x-tenant': ROUTED.tenant } }], stats: () => undefined }),
  },
  cookie: {
    summary: `GET / as ${CLIENTS} virtual clients in turn, each with its own cookie jar (sends sid=c<i> and every cookie set for it)`,
    probeHeaders: (i) => ({ cookie: `sid=c${i + 1}`, 'x-client': String(i + 1) }),
    wrk: ['cookie', String(CLIENTS)],
    autocannon: undefined,
  },
}
