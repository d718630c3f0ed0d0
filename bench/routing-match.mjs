#!/usr/bin/env node
/**
 * @module Router.match alone, in-process: the cost of routing one request on the routing benchmark's
 * two tables (scenarios.mjs `route-prefix` and `route-httproute-500`, the request of the `routed`
 * shape), and whether it allocates. It explains the end-to-end figures of `npm run bench -- --scenario
 * route-prefix,route-httproute-500`, which are what the acceptance target is about.
 *
 * Rounds alternate the tables (A B, B A, …); each round times `--iterations` matches with the CPU
 * clock of this process (process.cpuUsage), so other load on the machine slows the wall clock, not the
 * figure. Heap growth over a round with the garbage collector held off (a young generation large
 * enough for the round) shows allocation: ~0 bytes per match means none.
 *
 * `--dist DIR` measures another build (e.g. the commit before HTTPRoute) on the Ingress-only tables
 * (`route-prefix`, and `ingress-500`: 500 Ingress Prefix paths, the request matching the last), to
 * compare Ingress-only routing before and after.
 *
 * Usage: node --max-semi-space-size=64 bench/routing-match.mjs [--rounds 6] [--iterations 2000000] [--dist DIR]
 * Needs a built dist/.
 */
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ROUTED } from './lib/request-shapes.mjs'
import { SCENARIOS } from './lib/scenarios.mjs'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '6' }, iterations: { type: 'string', default: '2000000' }, dist: { type: 'string' } } })
const dist = values.dist === undefined ? new URL('../dist/', import.meta.url) : pathToFileURL(`${resolve(values.dist)}/`)
const { validateConfig } = await import(new URL('config/load.js', dist).href)
const { Router } = await import(new URL('routing/router.js', dist).href)
const rounds = Number(values.rounds)
const iterations = Number(values.iterations)
const ctx = { upstreams: ['http://127.0.0.1:1', 'http://127.0.0.1:2', 'http://127.0.0.1:3'] }

/** 500 Ingress Prefix paths /svc-i/vj on one host-less rule; the routed request matches /svc-49/v9. */
function ingressTable() {
  const paths = []
  for (let i = 0; i < 50; i++) for (let j = 0; j < 10; j++) paths.push({ path: `/svc-${i}/v${j}`, pathType: 'Prefix', backend: { service: { name: 'default' } } })
  return { listen: ['127.0.0.1:0'], pools: [{ name: 'default', endpoints: ctx.upstreams }], routes: { rules: [{ http: { paths } }] } }
}

function routerOf(name) {
  const config = name === 'ingress-500' ? ingressTable() : SCENARIOS[name].latch(ctx).config
  const loaded = validateConfig(config, { file: `${name}.json`, baseDir: process.cwd(), env: {} })
  return new Router(loaded.routes, (action) => action.id)
}

const names = values.dist === undefined ? ['route-prefix', 'route-httproute-500', 'ingress-500'] : ['route-prefix', 'ingress-500']
const tables = Object.fromEntries(names.map((name) => [name, routerOf(name)]))
const path = ROUTED.path.slice(0, ROUTED.path.indexOf('?'))
const request = { method: 'GET', headers: { host: '127.0.0.1:8080', 'x-tenant': ROUTED.tenant, 'user-agent': 'wrk' } }
for (const [name, router] of Object.entries(tables)) {
  const match = router.match('127.0.0.1', path, request, ROUTED.path)
  if (match === undefined) throw new Error(`${name}: the routed request does not match`)
  console.log(`${name}: routes to ${match.description}`)
}

function round(router) {
  const heapBefore = process.memoryUsage().heapUsed
  const cpuBefore = process.cpuUsage()
  let found = 0
  for (let i = 0; i < iterations; i++) if (router.match('127.0.0.1', path, request, ROUTED.path) !== undefined) found++
  const cpu = process.cpuUsage(cpuBefore)
  const heap = process.memoryUsage().heapUsed - heapBefore
  if (found !== iterations) throw new Error('a match failed')
  return { nsPerMatch: ((cpu.user + cpu.system) * 1000) / iterations, bytesPerMatch: heap / iterations }
}

for (const router of Object.values(tables)) round(router) // warm-up: optimise both before measuring
const results = Object.fromEntries(names.map((name) => [name, []]))
for (let r = 0; r < rounds; r++) {
  const order = r % 2 === 0 ? names : [...names].reverse()
  for (const name of order) results[name].push(round(tables[name]))
}
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
console.log(`\n${rounds} rounds × ${iterations} matches, CPU time of this process, build ${dist.pathname}`)
console.log('| table | ns per match, median (min–max) | bytes allocated per match, median |')
console.log('|---|---:|---:|')
for (const [name, list] of Object.entries(results)) {
  const ns = list.map((entry) => entry.nsPerMatch)
  console.log(`| ${name} | ${median(ns).toFixed(0)} (${Math.min(...ns).toFixed(0)}–${Math.max(...ns).toFixed(0)}) | ${median(list.map((entry) => entry.bytesPerMatch)).toFixed(2)} |`)
}
