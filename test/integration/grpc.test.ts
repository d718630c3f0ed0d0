import { writeFileSync } from 'node:fs'
import { connect } from 'node:http2'
import { stringify } from 'yaml'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { adminCall } from '../helpers/admin-client.js'
import { waitFor } from '../helpers/wait.js'
import { createTestCa, type TestCa } from '../helpers/certificates.js'
import { startLatch, type LatchProcess } from '../helpers/latch-process.js'
import { echoClient, grpc, startGrpcUpstream, unary, type GrpcUpstream, type Msg } from '../helpers/grpc.js'

type Client = ReturnType<typeof echoClient>

function latchConfig(pool: Record<string, unknown>): object {
  return {
    listen: { address: '127.0.0.1:0', http2: 'h2c' },
    log: { access: 'off' },
    pools: [{ name: 'grpc', ...pool }],
  }
}

function address(latch: LatchProcess): string {
  return `127.0.0.1:${latch.port}`
}

function serverStream(client: Client, request: Msg): Promise<{ messages: Msg[]; status: grpc.StatusObject; trailers: grpc.Metadata | undefined }> {
  return new Promise((done) => {
    const messages: Msg[] = []
    const call = (client.serverStream as (request: Msg) => grpc.ClientReadableStream<Msg>)(request)
    call.on('data', (message: Msg) => messages.push(message))
    call.on('error', () => undefined)
    call.on('status', (status: grpc.StatusObject) => done({ messages, status, trailers: status.metadata }))
  })
}

function clientStream(client: Client, texts: readonly string[]): Promise<{ response: Msg | undefined; status: grpc.StatusObject }> {
  return new Promise((done) => {
    let response: Msg | undefined
    const call = (client.clientStream as (callback: (error: grpc.ServiceError | null, answer?: Msg) => void) => grpc.ClientWritableStream<Msg>)((_error, answer) => (response = answer))
    call.on('status', (status: grpc.StatusObject) => setImmediate(() => done({ response, status })))
    for (const text of texts) call.write({ text })
    call.end()
  })
}

/** A bidirectional call: each message is written only after the answer to the previous one arrived. */
async function pingPong(client: Client, texts: readonly string[]): Promise<{ answers: Msg[]; status: grpc.StatusObject }> {
  const call = (client.bidi as () => grpc.ClientDuplexStream<Msg, Msg>)()
  const answers: Msg[] = []
  const status = new Promise<grpc.StatusObject>((done) => call.on('status', done))
  call.on('error', () => undefined)
  for (const text of texts) {
    const answered = new Promise<Msg>((done) => call.once('data', done))
    call.write({ text })
    answers.push(await answered)
  }
  call.end()
  return { answers, status: await status }
}

/** A gRPC-shaped POST with node:http2, to see what Latch puts on the wire. */
function rawH2Call(latch: LatchProcess): Promise<{ status: number; contentType: unknown; body: number; trailers: Record<string, unknown> }> {
  return new Promise((done, reject) => {
    const session = connect(latch.url)
    session.on('error', reject)
    const stream = session.request({ ':method': 'POST', ':path': '/latch.test.Echo/Unary', 'content-type': 'application/grpc', te: 'trailers' })
    let status = 0
    let contentType: unknown
    let body = 0
    let trailers: Record<string, unknown> = {}
    stream.on('response', (headers) => {
      status = Number(headers[':status'])
      contentType = headers['content-type']
    })
    stream.on('data', (chunk: Buffer) => (body += chunk.length))
    stream.on('trailers', (received) => (trailers = { ...received }))
    stream.on('close', () => {
      session.close()
      done({ status, contentType, body, trailers })
    })
    stream.end(Buffer.from([0, 0, 0, 0, 0]))
  })
}

async function allFourKinds(client: Client, server: string): Promise<void> {
  const single = await unary(client, { text: 'hello' })
  expect(single.status.code).toBe(grpc.status.OK)
  expect(single.response).toMatchObject({ text: 'hello', server })
  expect(single.status.metadata.get('x-server')).toEqual([server])

  const stream = await serverStream(client, { text: 'n', count: 5 })
  expect(stream.status.code).toBe(grpc.status.OK)
  expect(stream.messages.map((message) => message.text)).toEqual(['n0', 'n1', 'n2', 'n3', 'n4'])
  expect(stream.trailers?.get('x-server')).toEqual([server])

  const uploaded = await clientStream(client, ['a', 'b', 'c'])
  expect(uploaded.status.code).toBe(grpc.status.OK)
  expect(uploaded.response).toMatchObject({ text: 'a,b,c', server })
  expect(uploaded.status.metadata.get('x-server')).toEqual([server])

  const bidi = await pingPong(client, ['x', 'y', 'z'])
  expect(bidi.answers.map((answer) => answer.text)).toEqual(['x', 'y', 'z'])
  expect(bidi.status.code).toBe(grpc.status.OK)
  expect(bidi.status.metadata.get('x-server')).toEqual([server])
}

describe('gRPC through Latch', () => {
  let ca: TestCa
  const upstreams: GrpcUpstream[] = []
  const latches: LatchProcess[] = []
  const clients: Client[] = []

  async function start(pool: Record<string, unknown>): Promise<{ latch: LatchProcess; client: Client }> {
    const latch = await startLatch({ config: latchConfig(pool) })
    latches.push(latch)
    const client = echoClient(address(latch))
    clients.push(client)
    return { latch, client }
  }

  async function upstream(name: string, tls = false): Promise<GrpcUpstream> {
    const started = await startGrpcUpstream(name, tls ? ca.issue(name, name, ['IP:127.0.0.1']) : undefined)
    upstreams.push(started)
    return started
  }

  beforeAll(() => {
    ca = createTestCa()
  })

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close()
    await Promise.all(latches.splice(0).map((latch) => latch.stop()))
    for (const started of upstreams.splice(0)) started.kill()
  })

  afterAll(() => undefined)

  it('carries the four call kinds to an h2c upstream, trailers intact', async () => {
    const server = await upstream('h2c-1')
    const { client } = await start({ protocol: 'h2c', endpoints: [server.url] })
    await allFourKinds(client, 'h2c-1')
  })

  it('carries the four call kinds to a TLS (ALPN h2) upstream', async () => {
    const server = await upstream('tls-1', true)
    const { client } = await start({ protocol: 'h2', endpoints: [server.url], tls: { ca: ca.caCert } })
    await allFourKinds(client, 'tls-1')
  })

  it('relays an error status the upstream sends (Trailers-Only) unchanged', async () => {
    const server = await upstream('h2c-1')
    const { client } = await start({ protocol: 'h2c', endpoints: [server.url] })
    const result = await unary(client, { text: 'x', status: grpc.status.NOT_FOUND })
    expect(result.status.code).toBe(grpc.status.NOT_FOUND)
    expect(result.status.details).toBe('asked for status 5')
  })

  it('answers DEADLINE_EXCEEDED when the call outlives its grpc-timeout', async () => {
    const server = await upstream('slow')
    const { client } = await start({ protocol: 'h2c', endpoints: [server.url] })
    const result = await unary(client, { text: 'x', delayMs: 3000 }, { deadlineMs: 300 })
    expect(result.status.code).toBe(grpc.status.DEADLINE_EXCEEDED)
  })

  it('answers UNAVAILABLE (HTTP 200, grpc-status 14) when the pool has no available endpoint', async () => {
    const server = await upstream('not-serving')
    server.health = 'NOT_SERVING'
    // panicThreshold 0: no panic routing to the one unhealthy endpoint.
    const { latch, client } = await start({ protocol: 'h2c', endpoints: [server.url], healthCheck: { type: 'grpc', interval: '200ms' }, passiveHealth: { panicThreshold: 0 } })
    await waitFor(async () => ((await adminCall(latch, 'GET', '/pools')).body as { pools: { endpoints: { state: string }[] }[] }).pools[0]?.endpoints[0]?.state === 'unhealthy', 5000, 50, 'the endpoint unhealthy')
    const result = await unary(client, { text: 'x' })
    expect(result.status.code).toBe(grpc.status.UNAVAILABLE)
    expect(result.status.details).toContain('ERR_NO_ENDPOINT')
    expect(result.headers?.get('x-latch-error')).toEqual(['ERR_NO_ENDPOINT'])
    expect(server.calls).toBe(0)
    // On the wire: HTTP 200, no body, the status in the trailers.
    const raw = await rawH2Call(latch)
    expect(raw).toMatchObject({ status: 200, contentType: 'application/grpc', body: 0, trailers: { 'grpc-status': '14' } })
  })

  it('routes by the gRPC Health Checking Protocol (grpc.health.v1.Health/Check)', async () => {
    const [good, bad] = await Promise.all([upstream('good'), upstream('bad')])
    bad.health = 'NOT_SERVING'
    const { latch, client } = await start({ protocol: 'h2c', endpoints: [good.url, bad.url], healthCheck: { type: 'grpc', interval: '200ms', healthyThreshold: 1, unhealthyThreshold: 1 } })
    const states = async (): Promise<string[]> => ((await adminCall(latch, 'GET', '/pools')).body as { pools: { endpoints: { state: string }[] }[] }).pools[0]?.endpoints.map((endpoint) => endpoint.state) ?? []
    await waitFor(async () => (await states()).join() === 'healthy,unhealthy', 5000, 50, 'bad unhealthy')
    for (let i = 0; i < 6; i++) expect((await unary(client, { text: 'x' })).response?.server).toBe('good')
    bad.health = 'SERVING'
    await waitFor(async () => (await states()).join() === 'healthy,healthy', 5000, 50, 'bad healthy again')
    const seen = new Set<string>()
    for (let i = 0; i < 6; i++) seen.add((await unary(client, { text: 'x' })).response?.server ?? '?')
    expect([...seen].sort()).toEqual(['bad', 'good'])
  })

  it('answers UNAVAILABLE when the only endpoint refuses connections', async () => {
    const server = await upstream('gone')
    server.kill()
    const { client } = await start({ protocol: 'h2c', endpoints: [server.url] })
    const result = await unary(client, { text: 'x' })
    expect(result.status.code).toBe(grpc.status.UNAVAILABLE)
    expect(result.status.details).toContain('ERR_UPSTREAM_CONNECT')
  })

  it('ends a stream with a gRPC error when its server is killed mid-stream', async () => {
    const server = await upstream('dies')
    const { client } = await start({ protocol: 'h2c', endpoints: [server.url] })
    const call = (client.serverStream as (request: Msg) => grpc.ClientReadableStream<Msg>)({ text: 'n', count: 1000, delayMs: 50 })
    const messages: Msg[] = []
    call.on('data', (message: Msg) => {
      messages.push(message)
      if (messages.length === 3) server.kill()
    })
    call.on('error', () => undefined)
    const status = await new Promise<grpc.StatusObject>((done) => call.on('status', done))
    expect(messages.length).toBeGreaterThanOrEqual(3)
    expect(status.code).toBe(grpc.status.UNAVAILABLE)
    expect(status.details).toContain('ERR_UPSTREAM_RESET')
  })

  it('keeps a client on one server with header affinity (gRPC metadata)', async () => {
    const servers = await Promise.all(['a', 'b', 'c'].map((name) => upstream(name)))
    const { client } = await start({ protocol: 'h2c', endpoints: servers.map((server) => server.url), affinity: { mode: 'header', header: { name: 'x-session' } } })
    const first = await unary(client, { text: 'x' })
    const token = first.headers?.get('x-session')[0]
    expect(typeof token).toBe('string')
    const metadata = new grpc.Metadata()
    metadata.set('x-session', token as string)
    const seen = new Set<string>()
    for (let i = 0; i < 12; i++) seen.add((await unary(client, { text: 'x' }, { metadata })).response?.server ?? '?')
    expect([...seen]).toEqual([first.response?.server])
    // Without the token the calls spread (round robin over three servers).
    const spread = new Set<string>()
    for (let i = 0; i < 6; i++) spread.add((await unary(client, { text: 'x' })).response?.server ?? '?')
    expect(spread.size).toBe(3)
  })

  it('keeps a client on one server with hash affinity on a metadata key', async () => {
    const servers = await Promise.all(['a', 'b', 'c'].map((name) => upstream(name)))
    const { client } = await start({ protocol: 'h2c', endpoints: servers.map((server) => server.url), affinity: { mode: 'hash', hash: { key: 'header:x-user' } } })
    for (const user of ['alice', 'bob', 'carol']) {
      const metadata = new grpc.Metadata()
      metadata.set('x-user', user)
      const seen = new Set<string>()
      for (let i = 0; i < 6; i++) seen.add((await unary(client, { text: 'x' }, { metadata })).response?.server ?? '?')
      expect(seen.size).toBe(1)
    }
  })

  it('keeps a bidirectional call open across a hot reload that changes its pool', async () => {
    const [first, second] = await Promise.all([upstream('first'), upstream('second')])
    const { latch, client } = await start({ protocol: 'h2c', endpoints: [first.url] })
    const call = (client.bidi as () => grpc.ClientDuplexStream<Msg, Msg>)()
    const status = new Promise<grpc.StatusObject>((done) => call.on('status', done))
    call.on('error', () => undefined)
    const say = async (text: string): Promise<Msg> => {
      const answered = new Promise<Msg>((done) => call.once('data', done))
      call.write({ text })
      return answered
    }
    expect(await say('before')).toMatchObject({ text: 'before', server: 'first' })
    // A new endpoint and a new balancing policy: the pool is rebuilt, its endpoint carried over.
    writeFileSync(latch.configFile as string, stringify({ admin: { listen: '127.0.0.1:0' }, shutdown: { drainDelay: '0s', drainTimeout: '3s' }, ...latchConfig({ protocol: 'h2c', endpoints: [first.url, second.url], balance: 'least-request' }) }))
    const reply = await adminCall(latch, 'POST', '/reload')
    expect(reply.body).toMatchObject({ reloaded: true })
    expect(await say('after')).toMatchObject({ text: 'after', server: 'first' })
    call.end()
    expect((await status).code).toBe(grpc.status.OK)
    const seen = new Set<string>()
    for (let i = 0; i < 8; i++) seen.add((await unary(client, { text: 'x' })).response?.server ?? '?')
    expect([...seen].sort()).toEqual(['first', 'second'])
  })
})
