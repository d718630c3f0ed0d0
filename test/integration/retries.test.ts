/**
 * Retry safety: a connect failure is retried on another endpoint for any method; a request that
 * reached an endpoint is never sent again unless it is safe and bodiless; nothing is retried once
 * response bytes reached the client. Upstream arrival records prove how often each request arrived.
 */
import { request, type IncomingMessage, type ServerResponse } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send } from '../helpers/http-client.js'
import { accessLines, startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { refusedUrl } from '../helpers/raw-upstream.js'
import { startUpstream, type TestUpstream } from '../helpers/upstream.js'
import { waitFor } from '../helpers/wait.js'

let good: TestUpstream
let diesA: TestUpstream
let diesB: TestUpstream
let cutA: TestUpstream
let cutB: TestUpstream
let latch: LatchProcess

/** Reads the whole request, then drops the connection without answering. */
const dieAfterReading = (req: IncomingMessage): void => {
  req.socket.destroy()
}

/** Sends headers and part of the body, then drops the connection. */
const cutMidResponse = (_req: IncomingMessage, res: ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' })
  res.write('partial')
  setTimeout(() => res.socket?.destroy(), 50)
}

beforeAll(async () => {
  good = await startUpstream('good')
  const dies = { mode: { kind: 'custom', handle: dieAfterReading } } as const
  const cut = { mode: { kind: 'custom', handle: cutMidResponse } } as const
  ;[diesA, diesB, cutA, cutB] = await Promise.all([startUpstream('dies-a', dies), startUpstream('dies-b', dies), startUpstream('cut-a', cut), startUpstream('cut-b', cut)])
  const prefix = (path: string, pool: string) => ({ path, pathType: 'Prefix', backend: { service: { name: pool } } })
  const timeouts = { connect: '500ms', responseHeaders: '2s', bodyIdle: '2s' }
  // Passive health would eject the refused endpoint after a few failures and hide the retries.
  const passiveHealth = { enabled: false }
  latch = await startLatch({
    config: {
      listen: '127.0.0.1:0',
      pools: [
        { name: 'mixed', endpoints: [await refusedUrl(), good.url], retry: { attempts: 1 }, timeouts, passiveHealth },
        { name: 'dies', endpoints: [diesA.url, diesB.url], retry: { attempts: 1 }, timeouts, passiveHealth },
        { name: 'cut', endpoints: [cutA.url, cutB.url], retry: { attempts: 1 }, timeouts, passiveHealth },
      ],
      routes: { rules: [{ http: { paths: [prefix('/mixed', 'mixed'), prefix('/dies', 'dies'), prefix('/cut', 'cut')] } }] },
    },
  })
})

afterAll(async () => {
  await latch.stop()
  await Promise.all([good, diesA, diesB, cutA, cutB].map((upstream) => upstream.stop()))
})

const accessLine = (path: string) => waitFor(() => accessLines(latch).find((line) => line.path === path), 5000, 20, `access line for ${path}`)

describe('a connect failure is retried once on another endpoint, for any method', () => {
  it.each(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])('%s: every request gets 200 and arrives exactly once', async (method) => {
    const paths = [1, 2].map((n) => `/mixed/${method.toLowerCase()}-${n}`)
    for (const path of paths) {
      const body = method === 'GET' || method === 'DELETE' ? undefined : `body of ${path}`
      const response = await send({ port: latch.port, path, method, headers: { host: 'app.test' }, ...(body === undefined ? {} : { body }) })
      expect(response.status).toBe(200)
      const arrivals = good.arrivals.filter((arrival) => arrival.url === path)
      expect(arrivals).toHaveLength(1)
      if (body !== undefined) expect(arrivals[0]?.bodyBytes).toBe(Buffer.byteLength(body))
    }
    // Round-robin over [refused, good]: one of the two requests tried the refused endpoint first.
    const lines = await Promise.all(paths.map(accessLine))
    expect(lines.map((line) => line.attempts).sort()).toEqual([1, 2])
    expect(lines.every((line) => line.status === 200 && line.endpoint === `127.0.0.1:${good.port}`)).toBe(true)
  })
})

describe('a request that reached an endpoint is not sent again', () => {
  it.each([
    ['POST with a body', 'POST', 'payload'],
    ['POST without a body', 'POST', undefined],
    ['PUT with a body', 'PUT', 'payload'],
  ])('%s: the endpoint dies after reading it → 502, exactly one arrival', async (_name, method, body) => {
    const path = `/dies/${method.toLowerCase()}-${body === undefined ? 'empty' : 'body'}`
    const response = await send({ port: latch.port, path, method, headers: { host: 'app.test', 'content-length': String(Buffer.byteLength(body ?? '')) }, ...(body === undefined ? {} : { body }) })
    expect(response.status).toBe(502)
    expect(response.json).toMatchObject({ error: 'ERR_UPSTREAM_RESET' })
    const arrivals = [...diesA.arrivals, ...diesB.arrivals].filter((arrival) => arrival.url === path)
    expect(arrivals).toHaveLength(1)
    expect(await accessLine(path)).toMatchObject({ status: 502, attempts: 1, code: 'ERR_UPSTREAM_RESET' })
  })

  it('a safe bodiless GET may be retried on the other endpoint (and arrives once on each)', async () => {
    const response = await send({ port: latch.port, path: '/dies/get', headers: { host: 'app.test' } })
    expect(response.status).toBeGreaterThanOrEqual(502)
    expect(diesA.arrivals.filter((arrival) => arrival.url === '/dies/get')).toHaveLength(1)
    expect(diesB.arrivals.filter((arrival) => arrival.url === '/dies/get')).toHaveLength(1)
  })
})

describe('nothing is retried after response bytes reached the client', () => {
  it('GET whose response is cut mid-body: the client sees a truncated 200, one arrival in total', async () => {
    const outcome = await new Promise<{ status: number; body: string; complete: boolean }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: latch.port, path: '/cut/get', headers: { host: 'app.test' }, agent: false }, (res) => {
        let body = ''
        res.on('data', (chunk: Buffer) => (body += chunk.toString()))
        res.on('error', () => undefined)
        res.on('close', () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete }))
      })
      req.on('error', reject)
      req.end()
    })
    expect(outcome).toEqual({ status: 200, body: 'partial', complete: false })
    const arrivals = [...cutA.arrivals, ...cutB.arrivals].filter((arrival) => arrival.url === '/cut/get')
    expect(arrivals).toHaveLength(1)
    expect(await accessLine('/cut/get')).toMatchObject({ attempts: 1 })
  })
})
