/**
 * @module Real @grpc/grpc-js servers and clients for the gRPC tests (test/fixtures/grpc/echo.proto).
 *
 * A server answers every call kind, names itself in each answer (`server`) and in the trailers
 * (`x-server`), and serves grpc.health.v1.Health/Check with a status the test can change.
 */
import { resolve } from 'node:path'
import { readFileSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'

const FIXTURES = resolve(import.meta.dirname, '../fixtures/grpc')

/** An echo message (echo.proto `Msg`). */
export interface Msg {
  text?: string
  count?: number
  server?: string
  delayMs?: number
  status?: number
}

const definition = protoLoader.loadSync([resolve(FIXTURES, 'echo.proto'), resolve(FIXTURES, 'health.proto')], { keepCase: false, defaults: true })
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  latch: { test: { Echo: grpc.ServiceClientConstructor } }
  grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } }
}
export const EchoClient = loaded.latch.test.Echo
const HealthService = loaded.grpc.health.v1.Health

/** Health statuses (health.proto ServingStatus). */
export type ServingStatus = 'SERVING' | 'NOT_SERVING'

export interface GrpcUpstream {
  readonly name: string
  readonly port: number
  /** `http://127.0.0.1:port` (h2c) or `https://127.0.0.1:port` (TLS). */
  readonly url: string
  /** Calls received so far. */
  calls: number
  /** Answer of grpc.health.v1.Health/Check. */
  health: ServingStatus
  /** Metadata of the last call (header values). */
  lastMetadata: grpc.Metadata | undefined
  /** Kills every connection at once (calls in flight break off). */
  kill(): void
  close(): Promise<void>
}

function fail(status: number, message: string): grpc.ServiceError {
  return Object.assign(new Error(message), { code: status, details: message, metadata: new grpc.Metadata() })
}

function trailers(name: string): grpc.Metadata {
  const metadata = new grpc.Metadata()
  metadata.set('x-server', name)
  return metadata
}

const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms))

/** Starts an echo server; with `tls` (certificate and key files) it serves TLS (ALPN h2). */
export async function startGrpcUpstream(name: string, tls?: { cert: string; key: string }): Promise<GrpcUpstream> {
  const server = new grpc.Server()
  const upstream: GrpcUpstream = {
    name,
    port: 0,
    url: '',
    calls: 0,
    health: 'SERVING',
    lastMetadata: undefined,
    kill: () => server.forceShutdown(),
    close: () => new Promise((done) => server.tryShutdown(() => done())),
  }
  const seen = (call: { metadata: grpc.Metadata }): void => {
    upstream.calls++
    upstream.lastMetadata = call.metadata
  }
  server.addService(EchoClient.service, {
    Unary: async (call: grpc.ServerUnaryCall<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      seen(call)
      const request = call.request
      if ((request.delayMs ?? 0) > 0) await sleep(request.delayMs as number)
      if ((request.status ?? 0) !== 0) return callback(fail(request.status as number, `asked for status ${request.status}`), null, trailers(name))
      callback(null, { text: request.text ?? '', server: name }, trailers(name))
    },
    ServerStream: async (call: grpc.ServerWritableStream<Msg, Msg>) => {
      seen(call)
      const { count = 0, delayMs = 0, text = '' } = call.request
      for (let i = 0; i < count && !call.cancelled; i++) {
        if (delayMs > 0) await sleep(delayMs)
        call.write({ text: `${text}${i}`, server: name })
      }
      call.end(trailers(name))
    },
    ClientStream: (call: grpc.ServerReadableStream<Msg, Msg>, callback: grpc.sendUnaryData<Msg>) => {
      seen(call)
      const texts: string[] = []
      call.on('data', (message: Msg) => texts.push(message.text ?? ''))
      call.on('end', () => callback(null, { text: texts.join(','), server: name }, trailers(name)))
    },
    Bidi: (call: grpc.ServerDuplexStream<Msg, Msg>) => {
      seen(call)
      call.on('data', (message: Msg) => call.write({ text: message.text ?? '', server: name }))
      call.on('end', () => call.end(trailers(name)))
    },
  })
  server.addService(HealthService.service, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, { status: upstream.health }),
  })
  const credentials = tls === undefined ? grpc.ServerCredentials.createInsecure() : grpc.ServerCredentials.createSsl(null, [{ cert_chain: readFileSync(tls.cert), private_key: readFileSync(tls.key) }])
  const port = await new Promise<number>((done, reject) => server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error === null ? done(bound) : reject(error))))
  return Object.assign(upstream, { port, url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}` })
}

/** A client of the echo service at `address` (`host:port`); with `ca` over TLS. */
export function echoClient(address: string, ca?: Buffer): grpc.Client & Record<string, (...args: never[]) => unknown> {
  const credentials = ca === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(ca)
  return new EchoClient(address, credentials) as grpc.Client & Record<string, (...args: never[]) => unknown>
}

/** One unary call; resolves with the answer, the response headers and the status with its trailers (never rejects). */
export function unary(client: grpc.Client, request: Msg, options: { metadata?: grpc.Metadata; deadlineMs?: number } = {}): Promise<{ response: Msg | undefined; headers: grpc.Metadata | undefined; status: grpc.StatusObject }> {
  return new Promise((done) => {
    let response: Msg | undefined
    let headers: grpc.Metadata | undefined
    const callOptions: grpc.CallOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs }
    const call = (client as unknown as Record<string, (...args: unknown[]) => grpc.ClientUnaryCall>).unary!.call(client, request, options.metadata ?? new grpc.Metadata(), callOptions, (_error: grpc.ServiceError | null, answer?: Msg) => {
      response = answer
    })
    call.on('metadata', (metadata: grpc.Metadata) => (headers = metadata))
    call.on('status', (status: grpc.StatusObject) => setImmediate(() => done({ response, headers, status })))
  })
}

export { grpc }
