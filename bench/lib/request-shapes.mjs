/**
 * @module How the load generator shapes requests (extra headers per virtual client, cookie jars).
 *
 * A scenario names one shape. The direct-to-upstream figure is measured once per repeat for every shape in
 * use, with that same shape, because shaping costs the load generator time: `× direct` compares like with like.
 *
 * A shape has:
 * - `summary`: one line for the README and the JSON;
 * - `probeHeaders(i)`: headers of the i-th request of the sequential functional probe (before the load);
 * - `autocannon(options)`: runs inside the autocannon worker process; returns `{ setupClient?, requests?,
 *   stats() }` — `setupClient(client)` / `requests` are autocannon's own options (per-connection headers,
 *   `onResponse` for a cookie jar), `stats()` returns JSON-able figures (e.g. responses per virtual client
 *   and upstream) that reach the scenario's checks as `load.shapeStats`;
 * - `wrkScript`: a Lua file for wrk (`-s`) that shapes requests and ends with the same `done()` report as
 *   `wrk-report.lua` (copy its `done`); undefined = plain requests, reported by `wrk-report.lua`.
 */

/** Virtual clients of the `xff` shape. */
const XFF_CLIENTS = 1000

function clientIp(i) {
  return `10.${(i >> 8) & 255}.${i & 255}.1`
}

/** Every request shape by name. */
export const SHAPES = {
  plain: {
    summary: 'GET / with no extra headers; all connections alike',
    probeHeaders: () => ({}),
    autocannon: () => ({ stats: () => undefined }),
    wrkScript: undefined,
  },
  xff: {
    summary: `GET / as ${XFF_CLIENTS} client IPs in turn (X-Forwarded-For 10.x.y.1, one per request): returning clients and a steady share of new ones`,
    probeHeaders: (i) => ({ 'x-forwarded-for': clientIp(i) }),
    autocannon: () => {
      let next = 0
      return {
        requests: [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, 'x-forwarded-for': clientIp(next++ % XFF_CLIENTS) } }) }],
        stats: () => ({ clients: XFF_CLIENTS, sent: next }),
      }
    },
    // wrk is not shaped for this yet: use the default autocannon.
    wrkScript: undefined,
  },
  // Later, e.g. `cookie-jar` (virtual clients each sending their own cookie plus every cookie Latch set for
  // them) and `xff` (client i sends `X-Forwarded-For: 127.<i/256>.<i%256>.1`), as ../shared/bench/lua/bench.lua
  // does for the peer harness. Their `stats()` should return responses per client and upstream, so a
  // stickiness check can count clients that saw more than one upstream.
}
