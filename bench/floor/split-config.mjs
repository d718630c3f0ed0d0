#!/usr/bin/env node
/**
 * @module Prints the config of issue 12's split benchmark: pools main (u1, u2) and canary (u3) behind one
 * inline HTTPRoute rule at 90/10, access log off, no admin listener (as in quick mode, whose baseline
 * has none: the admin listener turns on per-request metrics).
 *
 *   node bench/floor/split-config.mjs PORT rule|pool U1 U2 U3 > split.json
 *
 * rule: the rule has `sessionPersistence: {type: Cookie}` (rule-level sessions); pool: the two pools
 * have their own `affinity.mode: cookie` (as quick mode --canary -a cookie and Ingress canaries).
 */
const [port, kind, ...upstreams] = process.argv.slice(2)
if (!(Number(port) > 0) || !['rule', 'pool'].includes(kind) || upstreams.length !== 3) {
  console.error('usage: split-config.mjs PORT rule|pool U1 U2 U3')
  process.exit(2)
}
const affinity = kind === 'pool' ? { affinity: { mode: 'cookie', responseHeader: true } } : {}
const session = kind === 'rule' ? { sessionPersistence: { type: 'Cookie', sessionName: 'latch-route-session' } } : {}
console.log(JSON.stringify({
  listen: [`127.0.0.1:${port}`],
  log: { level: 'warn', access: 'off' },
  admin: { listen: false },
  pools: [
    { name: 'main', endpoints: upstreams.slice(0, 2), ...affinity },
    { name: 'canary', endpoints: upstreams.slice(2), ...affinity },
  ],
  routes: [{
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'bench' },
    spec: { rules: [{ ...session, backendRefs: [{ name: 'main', weight: 90 }, { name: 'canary', weight: 10 }] }] },
  }],
}))
