import { once } from 'node:events'
import { createServer, type Http2Server, type ServerHttp2Stream } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { H2Dispatcher } from '../../../src/upstream/h2-dispatcher.js'

/** Records what the dispatcher reports to its handler. */
function recorder() {
  const events: string[] = []
  let settle: (value: { error?: Error; status?: number | undefined }) => void = () => {}
  const done = new Promise<{ error?: Error; status?: number | undefined }>((resolve) => (settle = resolve))
  let status: number | undefined
  const handler = {
    onConnect: () => events.push('connect'),
    onHeaders: (code: number) => {
      status = code
      events.push('headers')
      return true
    },
    onData: () => true,
    onComplete: () => settle({ status }),
    onError: (error: Error) => settle({ error }),
  }
  return { handler, done, events }
}

let server: Http2Server | undefined
afterEach(async () => {
  server?.close()
  server = undefined
})

async function listen(onStream: (stream: ServerHttp2Stream) => void): Promise<URL> {
  server = createServer()
  server.on('stream', onStream)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
}

const options = { connectTimeout: 2000, headersTimeout: 300, bodyTimeout: 300, keepAlive: 4000, tls: undefined }

describe('H2Dispatcher', () => {
  it('aborts a call whose response head does not come within headersTimeout', async () => {
    const url = await listen(() => {}) // never answers
    const dispatcher = new H2Dispatcher(url, options)
    const call = recorder()
    dispatcher.dispatch({ path: '/', method: 'GET', headers: ['host', url.host] }, call.handler)
    const { error } = await call.done
    expect((error as { code?: string }).code).toBe('UND_ERR_HEADERS_TIMEOUT')
    await dispatcher.destroy()
  })

  it('aborts a call whose body stalls longer than bodyTimeout after the head', async () => {
    const url = await listen((stream) => {
      stream.respond({ ':status': 200 })
      stream.write('first')
    })
    const dispatcher = new H2Dispatcher(url, options)
    const call = recorder()
    dispatcher.dispatch({ path: '/', method: 'GET', headers: ['host', url.host] }, call.handler)
    const { error } = await call.done
    expect(call.events).toEqual(['connect', 'headers'])
    expect((error as { code?: string }).code).toBe('UND_ERR_BODY_TIMEOUT')
    await dispatcher.destroy()
  })

  it('starts every call made while its session connects, then completes them', async () => {
    const url = await listen((stream) => {
      stream.respond({ ':status': 204 })
      stream.end()
    })
    const dispatcher = new H2Dispatcher(url, options)
    const calls = Array.from({ length: 20 }, () => recorder())
    for (const call of calls) dispatcher.dispatch({ path: '/', method: 'GET', headers: ['host', url.host] }, call.handler)
    const results = await Promise.all(calls.map((call) => call.done))
    expect(results.map((result) => result.status)).toEqual(calls.map(() => 204))
    await dispatcher.destroy()
  })

  it('reports a connect failure to every call waiting for the session', async () => {
    const url = await listen(() => {})
    const port = url.port
    await new Promise<void>((resolve) => (server as Http2Server).close(() => resolve()))
    server = undefined
    const dispatcher = new H2Dispatcher(new URL(`http://127.0.0.1:${port}`), options)
    const calls = Array.from({ length: 3 }, () => recorder())
    for (const call of calls) dispatcher.dispatch({ path: '/', method: 'GET', headers: ['host', `127.0.0.1:${port}`] }, call.handler)
    const results = await Promise.all(calls.map((call) => call.done))
    for (const result of results) expect(result.error).toBeInstanceOf(Error)
    await dispatcher.destroy()
  })
})
