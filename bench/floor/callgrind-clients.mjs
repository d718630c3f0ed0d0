#!/usr/bin/env node
/**
 * @module Instructions per request, which do not depend on the VM's speed: drives a proxy that runs
 * under `valgrind --tool=callgrind --instr-atstart=no` with virtual clients that keep cookie jars (as
 * the harness's cookie mode does), warms it up, then switches instrumentation on for a measured
 * window of requests only (`callgrind_control -i on|off`) and dumps. Every virtual client keeps its
 * jar from the warm-up, so the window sees returning sessions only. V8 may still be compiling after
 * the warm-up: check `callgrind_annotate` for v8::internal::compiler functions, and discard (or warm
 * up longer) a run that has them in its window, since its JS also ran in slower tiers meanwhile.
 *
 *   taskset -c 0 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.cookie \
 *     node dist/cli/main.js --listen 127.0.0.1:18152 --upstream $U --access-log off --affinity cookie & P=$!
 *   taskset -c 1 node bench/floor/callgrind-clients.mjs 18152 $P [clients=1000] [warmup=40000] [measured=10000]
 *   grep '^totals' /tmp/cg.cookie.1        # ÷ measured = instructions per request
 *
 * Each request carries `Cookie: sid=c<i>` plus the cookies the proxy set for client i, and
 * `X-Client: <i>`; 8 requests in flight. Prints the X-Latch-Affinity outcomes of the window.
 */
import { execFileSync } from 'node:child_process'
import { Pool } from 'undici'

const [port, pid, clients = 1000, warmup = 40_000, measured = 10_000] = process.argv.slice(2).map(Number)
if (!(port > 0) || !(pid > 0)) {
  console.error('usage: callgrind-clients.mjs PORT VALGRIND_PID [clients] [warmup] [measured]')
  process.exit(2)
}
const pool = new Pool(`http://127.0.0.1:${port}`, { connections: 8 })
const jars = Array.from({ length: clients }, () => '')
const outcomes = {}

async function phase(total) {
  let next = 0
  const client = async () => {
    while (next < total) {
      const i = next++ % clients
      const cookie = jars[i] === '' ? `sid=c${i}` : `sid=c${i}; ${jars[i]}`
      const response = await pool.request({ path: '/', method: 'GET', headers: { cookie, 'x-client': String(i) } })
      const outcome = String(response.headers['x-latch-affinity'] ?? 'none')
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1
      const setCookie = response.headers['set-cookie']
      if (setCookie !== undefined) jars[i] = String(setCookie).split(';')[0]
      await response.body.dump()
    }
  }
  await Promise.all(Array.from({ length: 8 }, client))
}

await phase(warmup)
execFileSync('callgrind_control', ['-i', 'on', String(pid)])
for (const key of Object.keys(outcomes)) delete outcomes[key]
await phase(measured)
execFileSync('callgrind_control', ['-i', 'off', String(pid)])
execFileSync('callgrind_control', ['-d', String(pid)])
await pool.close()
console.log(`measured ${measured} requests; outcomes ${JSON.stringify(outcomes)}`)
