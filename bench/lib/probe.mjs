/**
 * @module Small bounded helpers: one GET, waiting for a log line or an HTTP 200, and a sequential probe.
 */
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { connectWithPreamble } from './preambles.mjs'
import { setTimeout as sleep } from 'node:timers/promises'

/** One GET without keep-alive (its connection opened with the named `preamble`, if any); resolves `{ status, headers }` or `{ error }`, never rejects. */
export function httpGet(url, headers = {}, timeoutMs = 2000, preamble = undefined) {
  return new Promise((resolve) => {
    const { hostname, port } = new URL(url)
    const connection = preamble === undefined ? { agent: false } : { createConnection: () => connectWithPreamble(preamble, Number(port), hostname) }
    const req = request(url, { headers, ...connection, timeout: timeoutMs }, (res) => {
      res.resume()
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers }))
      res.on('error', (error) => resolve({ error: error.message }))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
    req.on('error', (error) => resolve({ error: error.message }))
    req.end()
  })
}

/** The last `lines` lines of a log file, for error messages. */
export function tail(file, lines = 15) {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

function exitedError(record) {
  const { code, signal, error } = record.exit
  return new Error(`${record.name} exited before it was ready (code ${code}, signal ${signal}${error ? `, ${error}` : ''})\n${tail(record.logFile)}`)
}

/** Polls `record.logFile` until a line parses as JSON and `pick(json)` returns a value; fails if the process exits. */
export async function waitForLogValue(record, pick, timeoutMs) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (record.exit !== undefined) throw exitedError(record)
    let text = ''
    try {
      text = readFileSync(record.logFile, 'utf8')
    } catch {
      // Not created yet.
    }
    for (const line of text.split('\n')) {
      if (!line.startsWith('{')) continue
      try {
        const value = pick(JSON.parse(line))
        if (value !== undefined) return value
      } catch {
        // A partly written line; read again on the next poll.
      }
    }
    await sleep(50)
  }
  throw new Error(`${record.name} did not become ready within ${timeoutMs} ms\n${tail(record.logFile)}`)
}

/** Waits until GET `url` (with `headers`) answers 200. */
export async function waitForHttp200(url, record, timeoutMs, preamble = undefined, headers = {}) {
  const deadline = Date.now() + timeoutMs
  let last
  while (Date.now() < deadline) {
    if (record?.exit !== undefined) throw exitedError(record)
    last = await httpGet(url, headers, 1000, preamble)
    if (last.status === 200) return
    await sleep(100)
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs} ms (last: ${JSON.stringify(last)})${record ? `\n${tail(record.logFile)}` : ''}`)
}

/** `count` sequential GETs (no keep-alive): statuses and the share of responses per `x-upstream`. */
export async function sequentialProbe(url, count, headersFor = () => ({}), preamble = undefined) {
  const statuses = {}
  const upstreams = {}
  for (let i = 0; i < count; i++) {
    const res = await httpGet(url, headersFor(i), 2000, preamble)
    const status = res.status ?? 'error'
    statuses[status] = (statuses[status] ?? 0) + 1
    const upstream = res.headers?.['x-upstream'] ?? '(none)'
    upstreams[upstream] = (upstreams[upstream] ?? 0) + 1
  }
  return { count, statuses, upstreams }
}
